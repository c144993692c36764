import { systemClock, type Clock } from '../clock.js';

/** Options shared by the in-memory stores. */
export interface MemoryConnectionOptions {
  /** The clock that stamps records (`updated_at`); default the real one. */
  now?: Clock;
}

/**
 * What the in-memory stores share. There is no connection to open (every store keeps its own
 * maps), only the clock: the file exists so this folder has the same shape as the others.
 */
export interface MemoryConnection {
  readonly now: Clock;
}

/** The in-memory "connection": the clock, defaulted. */
export function openMemory(options: MemoryConnectionOptions = {}): MemoryConnection {
  return { now: options.now ?? systemClock };
}
