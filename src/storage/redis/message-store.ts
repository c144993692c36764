import {
  checkMessageLimit,
  type MessageStore,
  type StoredMessage,
} from '../contracts/message-store.js';
import type { RedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';

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
  };
}
