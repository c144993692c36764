import { warnOnError, type ErrorReporter } from './report-error.js';

/** The options every event log takes, named alike for every backend. */
export interface EventLogOptions {
  /**
   * Events kept; older ones are dropped (default 100,000; 10,000 in memory). Database logs
   * trim from time to time, so a few more may wait for the next trim.
   */
  maxEvents?: number;
  /** Hears errors thrown by listeners and failed background reads (default: a process warning). */
  onError?: ErrorReporter;
}

/** The defaults and batch sizes of the stored event logs. */
export const EVENT_LOG_LIMITS = {
  /** Events a stored log keeps when `maxEvents` is not given. */
  maxEvents: 100_000,
  /** Events one `read` returns when it gives no limit. */
  readLimit: 1_000,
  /** Events read per query while catching subscribers up. */
  deliveryBatch: 500,
} as const;
/** At most this many appends between trims, whatever `maxEvents` is. */
const MAX_APPENDS_BETWEEN_TRIMS = 1_000;

/** A database log's settings, defaulted. */
export interface StoredEventLogSettings {
  maxEvents: number;
  pollIntervalMs: number;
  onError: ErrorReporter;
  /** Appends between trims: trimming scans the newest `maxEvents` ids, so a tenth of them at most. */
  trimEvery: number;
}

/** The settings of a database log (SQLite, Postgres), with its own default poll interval. */
export function storedEventLogSettings(
  options: EventLogOptions & { pollIntervalMs?: number },
  defaultPollIntervalMs: number,
): StoredEventLogSettings {
  const maxEvents = Math.max(1, options.maxEvents ?? EVENT_LOG_LIMITS.maxEvents);
  return {
    maxEvents,
    pollIntervalMs: options.pollIntervalMs ?? defaultPollIntervalMs,
    onError: options.onError ?? warnOnError,
    trimEvery: Math.min(MAX_APPENDS_BETWEEN_TRIMS, Math.ceil(maxEvents / 10)),
  };
}
