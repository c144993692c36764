/** One conversation message as stored: the AI SDK's `ModelMessage` JSON. */
export interface StoredMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: unknown;
  [key: string]: unknown;
}

/** Storage of conversations, one per session id. */
export interface MessageStore {
  /** Appends messages to a session, in order, all or none. */
  append(sessionId: string, messages: readonly StoredMessage[]): Promise<void>;
  /** The session's messages, oldest first. */
  list(sessionId: string): Promise<StoredMessage[]>;
  clear(sessionId: string): Promise<void>;
}
