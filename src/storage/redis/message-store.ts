import {
  checkMessageLimit,
  type MessageStore,
  type StoredMessage,
} from '../contracts/message-store.js';
import type { RedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';
import { PRUNE_LIMITS, pruneLimit } from '../prune-limits.js';
import { checkKeep } from '../trim-keep.js';

/** A {@link MessageStore} in Redis: a list of JSON messages per session. */
export function createRedisMessageStore(
  connection: RedisConnection,
  keys: RedisKeys,
): MessageStore {
  return {
    async append(sessionId, messages) {
      // Encoded before anything is sent, and pushed by one script: all the messages or none.
      const values = messages.map((message) => JSON.stringify(message));
      if (values.length === 0) return;
      await connection.run(() => connection.scripts.appendAll(keys.messages(sessionId), values));
    },

    async list(sessionId, options) {
      const limit = checkMessageLimit(options);
      // `-0` would be index 0, the whole list: a read of none asks nothing.
      if (limit === 0) return [];
      const values = await connection.run((client) =>
        client.lrange(keys.messages(sessionId), limit === undefined ? 0 : -limit, -1),
      );
      return values.map((value) => JSON.parse(value) as StoredMessage);
    },

    async clear(sessionId) {
      await connection.run((client) => client.del(keys.messages(sessionId)));
    },

    async trim(sessionId, options) {
      const keep = checkKeep(options.keep);
      const limit = pruneLimit(options.limit, PRUNE_LIMITS.messages);
      const key = keys.messages(sessionId);
      if (options.dry_run) {
        const length = await connection.run((client) => client.llen(key));
        return Math.max(0, length - keep);
      }
      // One script counts and trims: trims at once never remove more than the excess.
      return connection.run(() => connection.scripts.trimListHead(key, keep, limit));
    },
  };
}
