import { copyPlain } from '../../shared/copy-plain.js';
import {
  checkMessageLimit,
  type MessageStore,
  type StoredMessage,
} from '../contracts/message-store.js';
import { PRUNE_LIMITS, pruneLimit } from '../prune-limits.js';
import { checkKeep } from '../trim-keep.js';

/** A {@link MessageStore} held in this process's memory; every read returns a copy. */
export function createMemoryMessageStore(): MessageStore {
  const sessions = new Map<string, StoredMessage[]>();

  return {
    async append(sessionId, messages) {
      // Cloned before touching the session, so a message that cannot be cloned adds none.
      const copies = copyPlain([...messages]);
      const session = sessions.get(sessionId);
      if (session) session.push(...copies);
      else sessions.set(sessionId, copies);
    },

    async list(sessionId, options) {
      const limit = checkMessageLimit(options);
      const messages = sessions.get(sessionId) ?? [];
      // Sliced before cloning, so a limited read copies only what it returns.
      const start = limit === undefined ? 0 : Math.max(0, messages.length - limit);
      return copyPlain(messages.slice(start));
    },

    async clear(sessionId) {
      sessions.delete(sessionId);
    },

    async trim(sessionId, options) {
      const keep = checkKeep(options.keep);
      const limit = pruneLimit(options.limit, PRUNE_LIMITS.messages);
      const messages = sessions.get(sessionId) ?? [];
      const excess = Math.max(0, messages.length - keep);
      if (options.dry_run) return excess;
      const removed = Math.min(excess, limit);
      messages.splice(0, removed);
      return removed;
    },
  };
}
