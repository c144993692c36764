import type { MessageStore, StoredMessage } from '../contracts/message-store.js';

/** A {@link MessageStore} held in this process's memory; every read returns a copy. */
export function createMemoryMessageStore(): MessageStore {
  const sessions = new Map<string, StoredMessage[]>();

  return {
    async append(sessionId, messages) {
      // Cloned before touching the session, so a message that cannot be cloned adds none.
      const copies = structuredClone([...messages]);
      sessions.set(sessionId, [...(sessions.get(sessionId) ?? []), ...copies]);
    },

    async list(sessionId) {
      return structuredClone(sessions.get(sessionId) ?? []);
    },

    async clear(sessionId) {
      sessions.delete(sessionId);
    },
  };
}
