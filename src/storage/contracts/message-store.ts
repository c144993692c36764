import { NightshiftError } from '../../errors.js';

/** One conversation message as stored: the AI SDK's `ModelMessage` JSON. */
export interface StoredMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: unknown;
  [key: string]: unknown;
}

/** Options for reading a session's messages. */
export interface ListMessagesOptions {
  /** Only the newest this many messages, still oldest first (default: all of them). */
  limit?: number;
}

/** How {@link MessageStore.trim} trims a session. */
export interface TrimMessagesOptions {
  /** The newest messages kept. */
  keep: number;
  /** At most this many removed in one call (default 1,000), so no call holds a lock for long. */
  limit?: number;
  /** Counts what would go (no limit), and removes nothing. */
  dry_run?: boolean;
}

/** Storage of conversations, one per session id. */
export interface MessageStore {
  /** Appends messages to a session, in order, all or none. */
  append(sessionId: string, messages: readonly StoredMessage[]): Promise<void>;
  /** The session's messages (the newest `limit` of them when given), oldest first. */
  list(sessionId: string, options?: ListMessagesOptions): Promise<StoredMessage[]>;
  /** Removes every message of a session. */
  clear(sessionId: string): Promise<void>;
  /**
   * Retention: removes the session's oldest messages beyond its newest `keep`, at most `limit`
   * of them. Returns how many this call removed (with `dry_run`, how many it would). Safe from
   * several processes at once: never more than the excess goes, however many trim together.
   */
  trim(sessionId: string, options: TrimMessagesOptions): Promise<number>;
}

/** The `limit` of {@link ListMessagesOptions}, checked; a bad one is a caller's bug, a `config_invalid` error. */
export function checkMessageLimit(options: ListMessagesOptions | undefined): number | undefined {
  const limit = options?.limit;
  if (limit === undefined || (Number.isSafeInteger(limit) && limit >= 0)) return limit;
  const message = `must be a non-negative integer, got ${String(limit)}`;
  throw new NightshiftError('config_invalid', `limit: ${message}`, {
    fields: [{ path: 'limit', message }],
  });
}
