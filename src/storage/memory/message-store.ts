import {
  checkMessageLimit,
  type MessageStore,
  type StoredMessage,
} from '../contracts/message-store.js';

/** A {@link MessageStore} held in this process's memory; every read returns a copy. */
export function createMemoryMessageStore(): MessageStore {
  const sessions = new Map<string, StoredMessage[]>();

  return {
    async append(sessionId, messages) {
      // Cloned before touching the session, so a message that cannot be cloned adds none.
      const copies = structuredClone([...messages]);
      const session = sessions.get(sessionId);
      if (session) session.push(...copies);
      else sessions.set(sessionId, copies);
    },

    async list(sessionId, options) {
      const limit = checkMessageLimit(options);
      const messages = sessions.get(sessionId) ?? [];
      // Sliced before cloning, so a limited read copies only what it returns.
      const start = limit === undefined ? 0 : Math.max(0, messages.length - limit);
      return structuredClone(messages.slice(start));
    },

    async clear(sessionId) {
      sessions.delete(sessionId);
    },
  };
}
