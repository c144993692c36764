import {
  checkMessageLimit,
  type MessageStore,
  type StoredMessage,
} from '../contracts/message-store.js';
import type { SqliteConnection } from './connection.js';

/** A {@link MessageStore} in a SQLite database; writes commit in the connection's batch. */
export function createSqliteMessageStore({ database, writes }: SqliteConnection): MessageStore {
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

  return {
    async append(sessionId, messages) {
      const rows = messages.map((message) => JSON.stringify(message));
      // One write, so one savepoint: the session gets all the messages or, if one fails, none.
      return writes.write(['messages', sessionId], () => {
        for (const row of rows) insert.run(sessionId, row);
      });
    },

    async list(sessionId, options) {
      const limit = checkMessageLimit(options);
      const rows = writes.read(['messages', sessionId], () =>
        limit === undefined ? select.all(sessionId) : selectNewest.all(sessionId, limit).reverse(),
      );
      return rows.map((row) => JSON.parse(row.message) as StoredMessage);
    },

    async clear(sessionId) {
      return writes.write(['messages', sessionId], () => {
        remove.run(sessionId);
      });
    },
  };
}
