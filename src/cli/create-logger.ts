import { pino } from 'pino';
import type { ServiceLogger } from '../service/index.js';
import { redactStrings } from '../shared/redaction.js';
import type { Redactor } from './redact.js';

/** Log levels the CLI accepts, quietest last. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The service's logger for the CLI: pino, JSON lines on standard error (standard output is for
 * run lines), with every secret of the Nightshift file redacted from messages and fields.
 */
export function createLogger(level: LogLevel, redact: Redactor): ServiceLogger {
  // Synchronous writes: the process may exit right after a warning, and it must not be lost.
  const logger = pino({ level, base: null }, pino.destination({ dest: 2, sync: true }));
  const log =
    (method: 'info' | 'warn' | 'error') =>
    (object: object, message?: string): void => {
      const fields = redactStrings(object, redact);
      if (message === undefined) logger[method](fields);
      else logger[method](fields, redact(message));
    };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}
