import {
  checkMessageLimit,
  type MessageStore,
  type StoredMessage,
} from '../contracts/message-store.js';
import type { SqliteDatabase } from './database.js';

/** A {@link MessageStore} in a SQLite database. */
export function createSqliteMessageStore(database: SqliteDatabase): MessageStore {
  const insert = database.prepare<[string, string]>(
    'INSERT INTO messages (session_id, message) VALUES (?, ?)',
  );
  const select = database.prepare<[string], { message: string }>(
    'SELECT message FROM messages WHERE session_id = ? ORDER BY sequence',
  );
  // Newest first, so the index on (session_id, sequence) stops after `limit` rows.
  const selectNewest = database.prepare<[string, number], { message: string }>(
    'SELECT message FROM messages WHERE session_id = ? ORDER BY sequence DESC LIMIT ?',
  );
  const remove = database.prepare<[string]>('DELETE FROM messages WHERE session_id = ?');

  // One transaction: a session gets all the messages or, if one fails, none.
  const append = database.transaction((sessionId: string, messages: readonly StoredMessage[]) => {
    for (const message of messages) insert.run(sessionId, JSON.stringify(message));
  });

  return {
    async append(sessionId, messages) {
      append.immediate(sessionId, messages);
    },

    async list(sessionId, options) {
      const limit = checkMessageLimit(options);
      const rows =
        limit === undefined ? select.all(sessionId) : selectNewest.all(sessionId, limit).reverse();
      return rows.map((row) => JSON.parse(row.message) as StoredMessage);
    },

    async clear(sessionId) {
      remove.run(sessionId);
    },
  };
}
