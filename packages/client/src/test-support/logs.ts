import { type LogLevel, setLogLevel, setLogSink } from '../logger.js';

export interface LogRecord {
  level: Exclude<LogLevel, 'silent'>;
  logger: string;
  message: string;
  context: unknown[];
}

/** Collects SDK log records (at `level` and above) instead of printing them; call restore() after. */
export function captureLogs(level: LogLevel = 'warn'): { records: LogRecord[]; restore(): void } {
  const records: LogRecord[] = [];
  setLogLevel(level);
  setLogSink((recordLevel, logger, message, context) => records.push({ level: recordLevel, logger, message, context }));
  return {
    records,
    restore() {
      setLogSink(null);
      setLogLevel('silent');
    },
  };
}
