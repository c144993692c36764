import type { StoredMessage } from '../contracts/message-store.js';
import { groupCommit } from '../group-commit.js';
import type { PostgresDatabase } from './connection.js';
import { refusesData } from './refused-data.js';

/** Most sessions appended to, or read, in one statement. */
const MAX_BATCH_SESSIONS = 200;

/** One session's read: its newest `limit` messages (null: all of them). */
interface SessionRead {
  sessionId: string;
  limit: number | null;
}

/** One append's outcome in a batch: done, or its error. */
type Outcome = { error?: unknown };

/** The conversation reads and appends of many runs, many to a statement. */
export interface MessageBatches {
  /** Appends a session's messages (their JSON array), all or none. */
  append(sessionId: string, messagesJson: string): Promise<void>;
  /** A session's newest `limit` messages (null: all), oldest first. */
  list(sessionId: string, limit: number | null): Promise<StoredMessage[]>;
}

/**
 * Group commit of the conversation writes and reads of a process's runs (`group-commit.ts`):
 * runs going at once read and append their sessions together, one statement a batch instead of
 * one a run. Alone, a call waits only for a microtask. An append is one session's messages all
 * or none, numbered in the order the batch lists them (a run's own appends are one after
 * another); when the database refuses a batch's data, its appends go again one at a time, so
 * only the one it refuses fails. Reads of a batch see the sessions as of one statement made
 * after each was asked for.
 */
export function createMessageBatches(database: PostgresDatabase): MessageBatches {
  const table = database.table('messages');
  const appendStatement = database.prepare(`
    INSERT INTO ${table} (session_id, message)
    SELECT batch.session_id, item.message
    FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS batch (session_id, messages, position),
      jsonb_array_elements(batch.messages) WITH ORDINALITY AS item (message, place)
    ORDER BY batch.position, item.place
  `);
  // Newest first in each session, so the index on (session_id, sequence) stops after its limit.
  const listStatement = database.prepare(`
    SELECT batch.position, newest.message
    FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS batch (session_id, size, position)
    CROSS JOIN LATERAL (
      SELECT message, sequence FROM ${table} WHERE session_id = batch.session_id
      ORDER BY sequence DESC LIMIT batch.size
    ) AS newest
    ORDER BY batch.position, newest.sequence
  `);

  async function appendAll(batch: readonly { sessionId: string; json: string }[]) {
    await database.write(appendStatement, [
      batch.map((item) => item.sessionId),
      batch.map((item) => item.json),
    ]);
  }

  const appends = groupCommit<{ sessionId: string; json: string }, Outcome>(async (batch) => {
    try {
      await appendAll(batch);
      return batch.map(() => ({}));
    } catch (error) {
      if (batch.length === 1 || !refusesData(error)) throw error;
      const outcomes: Outcome[] = [];
      for (const item of batch)
        outcomes.push(
          await appendAll([item]).then(
            () => ({}),
            (failed: unknown) => ({ error: failed }),
          ),
        );
      return outcomes;
    }
  }, MAX_BATCH_SESSIONS);

  const reads = groupCommit<SessionRead, StoredMessage[]>(async (batch) => {
    const { rows } = await database.read<{ position: string; message: StoredMessage }>(
      listStatement,
      [batch.map((read) => read.sessionId), batch.map((read) => read.limit)],
    );
    const lists = batch.map((): StoredMessage[] => []);
    for (const row of rows) lists[Number(row.position) - 1]!.push(row.message);
    return lists;
  }, MAX_BATCH_SESSIONS);

  return {
    async append(sessionId, json) {
      const { error } = await appends.write({ sessionId, json });
      if (error !== undefined) throw error;
    },
    list: (sessionId, limit) => reads.write({ sessionId, limit }),
  };
}
