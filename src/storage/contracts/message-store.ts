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

/** Storage of conversations, one per session id. */
export interface MessageStore {
  /** Appends messages to a session, in order, all or none. */
  append(sessionId: string, messages: readonly StoredMessage[]): Promise<void>;
  /** The session's messages (the newest `limit` of them when given), oldest first. */
  list(sessionId: string, options?: ListMessagesOptions): Promise<StoredMessage[]>;
  /** Removes every message of a session. */
  clear(sessionId: string): Promise<void>;
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
