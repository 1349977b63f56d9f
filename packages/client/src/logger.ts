/**
 * A small named logger. Levels, from most to least verbose:
 * - debug: every step of a negotiation or a frame; for chasing a bug.
 * - info: lifecycle changes a support engineer wants to see (joined, state changes, left).
 * - warn: something went wrong but the SDK recovered or ignored it (bad frame, failed candidate).
 * - error: a bug or a failure the user will notice (a listener threw, negotiation failed).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Where log records go; replace it to capture logs (tests) or forward them (telemetry). */
export type LogSink = (level: Exclude<LogLevel, 'silent'>, logger: string, message: string, context: unknown[]) => void;

export interface Logger {
  readonly name: string;
  debug(message: string, ...context: unknown[]): void;
  info(message: string, ...context: unknown[]): void;
  warn(message: string, ...context: unknown[]): void;
  error(message: string, ...context: unknown[]): void;
  /** A logger named `<this name>:<suffix>`, e.g. `room:peer:abc`. */
  child(suffix: string): Logger;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

const consoleSink: LogSink = (level, logger, message, context) => {
  console[level](`[convene:${logger}] ${message}`, ...context);
};

/** Vitest sets VITEST in the environment; the SDK stays quiet there unless a test asks for logs. */
function runningUnderTest(): boolean {
  // `process` does not exist in browsers; read it defensively so the bundle needs no Node shim.
  const maybeProcess = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return maybeProcess?.env?.VITEST !== undefined;
}

let threshold: number = LEVEL_RANK[runningUnderTest() ? 'silent' : 'warn'];
let sink: LogSink = consoleSink;

/** Sets the lowest level that is written, for every logger of the SDK. Default `warn` (`silent` under Vitest). */
export function setLogLevel(level: LogLevel): void {
  threshold = LEVEL_RANK[level];
}

/** Replaces where records go; `null` restores the console. */
export function setLogSink(newSink: LogSink | null): void {
  sink = newSink ?? consoleSink;
}

export function getLogger(name: string): Logger {
  const write = (level: Exclude<LogLevel, 'silent'>, message: string, context: unknown[]): void => {
    if (LEVEL_RANK[level] < threshold) return;
    try {
      sink(level, name, message, context);
    } catch {
      // A broken sink must never break the SDK.
    }
  };
  return {
    name,
    debug: (message, ...context) => write('debug', message, context),
    info: (message, ...context) => write('info', message, context),
    warn: (message, ...context) => write('warn', message, context),
    error: (message, ...context) => write('error', message, context),
    child: (suffix) => getLogger(`${name}:${suffix}`),
  };
}
