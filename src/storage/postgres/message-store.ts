import {
  checkMessageLimit,
  type MessageStore,
  type StoredMessage,
} from '../contracts/message-store.js';
import type { PostgresDatabase } from './connection.js';
import { PRUNE_LIMITS, pruneLimit } from '../prune-limits.js';
import { checkKeep } from '../trim-keep.js';

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
  // The session's messages beyond its newest $2, oldest first.
  const excess = `SELECT sequence FROM ${table} WHERE session_id = $1 ORDER BY sequence DESC OFFSET $2`;
  const countExcess = database.prepare(`SELECT COUNT(*) AS count FROM (${excess}) AS excess`);
  // Trims at once pick the same oldest rows: a row goes once, so never more than the excess.
  const trim = database.prepare(`
    DELETE FROM ${table} WHERE sequence IN (
      SELECT sequence FROM (${excess}) AS excess ORDER BY sequence LIMIT $3
    )
  `);

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

    async trim(sessionId, options) {
      const keep = checkKeep(options.keep);
      const limit = pruneLimit(options.limit, PRUNE_LIMITS.messages);
      if (options.dry_run) {
        const { rows } = await database.read<{ count: string }>(countExcess, [sessionId, keep]);
        return Number(rows[0]?.count ?? 0);
      }
      const { rowCount } = await database.write(trim, [sessionId, keep, limit]);
      return rowCount ?? 0;
    },
  };
}
