import type { MessageStore, StoredMessage } from '../contracts/message-store.js';
import type { RedisConnection } from './client.js';
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

    async list(sessionId) {
      const values = await connection.run((client) =>
        client.lrange(keys.messages(sessionId), 0, -1),
      );
      return values.map((value) => JSON.parse(value) as StoredMessage);
    },

    async clear(sessionId) {
      await connection.run((client) => client.del(keys.messages(sessionId)));
    },
  };
}
