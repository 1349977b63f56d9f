import { pino } from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * What each level means here:
 * - error: the server did something wrong (a bug, an I/O failure); someone should look.
 * - warn: the server is degraded or misconfigured but keeps serving (missing web app, stalled shutdown).
 * - info: lifecycle an operator cares about: listening, rooms opened/closed, participants in/out, shutdown.
 * - debug: per-connection detail: state changes, refused requests, rate limiting.
 * - trace: per-message detail (types and sizes only, never bodies).
 * Client misbehaviour is never above debug/info: clients must not be able to flood the log.
 */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({
    level,
    base: { name: 'convene' },
    // Belt and braces: nothing should ever log these, and if a future change does, they are hidden.
    redact: {
      paths: ['token', 'resumeToken', 'sdp', '*.token', '*.resumeToken', '*.sdp', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/** A logger that writes nothing (tests). */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
