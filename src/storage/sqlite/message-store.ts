import {
  checkMessageLimit,
  type MessageStore,
  type StoredMessage,
} from '../contracts/message-store.js';
import type { SqliteConnection } from './connection.js';
import { PRUNE_LIMITS, pruneLimit } from '../prune-limits.js';
import { checkKeep } from '../trim-keep.js';

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
  const count = database.prepare<[string], { count: number }>(
    'SELECT COUNT(*) AS count FROM messages WHERE session_id = ?',
  );
  const removeOldest = database.prepare<[string, number]>(`
    DELETE FROM messages WHERE sequence IN (
      SELECT sequence FROM messages WHERE session_id = ? ORDER BY sequence LIMIT ?
    )
  `);

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

    async trim(sessionId, options) {
      const keep = checkKeep(options.keep);
      const limit = pruneLimit(options.limit, PRUNE_LIMITS.messages);
      const excess = (): number => Math.max(0, (count.get(sessionId)?.count ?? 0) - keep);
      if (options.dry_run) return writes.read(['messages', sessionId], excess);
      // Counted and removed under the write lock: trims at once never remove more than the excess.
      return writes.write(['messages', sessionId], () => {
        const due = Math.min(excess(), limit);
        return due === 0 ? 0 : removeOldest.run(sessionId, due).changes;
      });
    },
  };
}
