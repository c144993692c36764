import { checkMessageLimit, type MessageStore } from '../contracts/message-store.js';
import type { PostgresDatabase } from './connection.js';
import { createMessageBatches } from './message-batches.js';
import { PRUNE_LIMITS, pruneLimit } from '../prune-limits.js';
import { checkKeep } from '../trim-keep.js';

/** A {@link MessageStore} in a Postgres schema. */
export function createPostgresMessageStore(database: PostgresDatabase): MessageStore {
  const table = database.table('messages');
  // Runs going at once read and append their conversations together (`message-batches.ts`).
  const batches = createMessageBatches(database);
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
      await batches.append(sessionId, json);
    },

    async list(sessionId, options) {
      return batches.list(sessionId, checkMessageLimit(options) ?? null);
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
