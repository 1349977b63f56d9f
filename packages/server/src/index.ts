export {
  type CliCommand,
  type Config,
  type ConveneOptions,
  DEFAULT_CONFIG,
  type Environment,
  helpText,
  parseCommandLine,
  resolveConfig,
} from './config.js';
export { ConfigError, JoinRefusedError, RequestError, SignalingError } from './errors.js';
export { type Health, HttpErrorCode, type RoomStatus, SECURITY_HEADERS } from './http.js';
export { createLogger, createSilentLogger, LOG_LEVELS, type Logger, type LogLevel } from './logger.js';
export type { Clock } from './rateLimiter.js';
export {
  type ConveneServer,
  type ConveneServerDeps,
  type ConveneServerStats,
  createConveneServer,
  type ListenResult,
  TurnStartError,
} from './server.js';
export { SERVER_VERSION } from './version.js';
