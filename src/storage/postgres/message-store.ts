import {
  checkMessageLimit,
  type MessageStore,
  type StoredMessage,
} from '../contracts/message-store.js';
import type { PostgresDatabase } from './connection.js';

/** A {@link MessageStore} in a Postgres schema. */
export function createPostgresMessageStore(database: PostgresDatabase): MessageStore {
  const table = database.table('messages');
  // One statement: the session gets all the messages or none, numbered in list order.
  const append = database.prepare(`
    INSERT INTO ${table} (session_id, message)
    SELECT $1, item.message FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS item(message, position)
    ORDER BY item.position
  `);
  const all = database.prepare(
    `SELECT message FROM ${table} WHERE session_id = $1 ORDER BY sequence`,
  );
  // Newest first, so the index on (session_id, sequence) stops after `limit` rows.
  const newest = database.prepare(
    `SELECT message FROM ${table} WHERE session_id = $1 ORDER BY sequence DESC LIMIT $2`,
  );
  const clear = database.prepare(`DELETE FROM ${table} WHERE session_id = $1`);

  return {
    async append(sessionId, messages) {
      // Serialised before anything is sent, so a message that cannot be stored adds none.
      const json = JSON.stringify(messages);
      if (messages.length === 0) return;
      await database.write(append, [sessionId, json]);
    },

    async list(sessionId, options) {
      const limit = checkMessageLimit(options);
      if (limit === undefined) {
        const { rows } = await database.read<{ message: StoredMessage }>(all, [sessionId]);
        return rows.map((row) => row.message);
      }
      const { rows } = await database.read<{ message: StoredMessage }>(newest, [sessionId, limit]);
      return rows.map((row) => row.message).reverse();
    },

    async clear(sessionId) {
      await database.write(clear, [sessionId]);
    },
  };
}
