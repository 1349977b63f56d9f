export * from './errors.js';
export * from './limits.js';
export * from './messages.js';
