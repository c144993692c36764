import { errorMessage } from '../errors.js';

/**
 * Called with errors no caller can catch: a subscriber's listener that threw, a failed
 * poll. Event logs take one as `onError`; this default makes them visible without
 * crashing the process.
 */
export type ErrorReporter = (error: unknown) => void;

/** The default {@link ErrorReporter}: a process warning, which Node prints once to stderr. */
export const warnOnError: ErrorReporter = (error) => {
  process.emitWarning(`event log: ${errorMessage(error)}`, { type: 'NightshiftWarning' });
};
