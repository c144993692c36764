import type { NewEvent } from '../contracts/event-log.js';
import type { EventRow as SqlEventRow } from '../sql/row-mapping.js';
import type { PostgresDatabase } from './connection.js';
import { refusesData } from './refused-data.js';

/** A stored event as Postgres returns it; `id` is a BIGSERIAL, which arrives as text. */
export type EventRow = SqlEventRow & { id: string };

/** Options of {@link createEventBatchWriter}. */
export interface EventBatchWriterOptions {
  database: PostgresDatabase;
  /** Notified with the newest id of each batch once it commits. */
  channel: string;
  /**
   * Runs before each batch is written, once its events are taken from the queue: the log
   * gives subscribers still reading their starting point the chance to finish.
   */
  beforeBatch(): Promise<void>;
}

/** Writes the events of one event log, many to a transaction. */
export interface EventBatchWriter {
  /**
   * Queues an event (its payload already JSON) for the next batch. Resolves with its stored
   * row once that batch has committed; rejects with the batch's error.
   */
  write(event: NewEvent, payload: string): Promise<EventRow>;
  /** Resolves once every event queued so far is written or has failed. */
  drain(): Promise<void>;
}

/** Most events written in one transaction. */
const MAX_BATCH_EVENTS = 500;

interface QueuedEvent {
  event: NewEvent;
  payload: string;
  resolve(row: EventRow): void;
  reject(error: unknown): void;
}

/**
 * Group commit. The first event waits only for a microtask, so events appended together
 * go together; events that arrive while a batch is being written queue up, and the next
 * batch takes them all (at most 500) as soon as that one has committed. Each batch is one
 * transaction: the schema's advisory lock, then one INSERT that draws the ids in queue
 * order, returns the rows by their place in the batch and notifies the newest id. With one
 * batch in flight at a time, ids follow the order in which `write` was called.
 *
 * When the database refuses a batch's data, its events are written again one at a time,
 * so only the event it refuses fails, as it would without batching; any other error fails
 * every event of the batch.
 */
export function createEventBatchWriter(options: EventBatchWriterOptions): EventBatchWriter {
  const { database, channel } = options;
  const events = database.table('events');
  // The BIGSERIAL's own sequence, drawn from explicitly so each id is known with its place.
  const sequence = database.table('events_id_seq');
  const appendLock = `nightshift_events:${database.schema}`;
  const appendStatement = database.prepare(
    `WITH append_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtext($8))),
     batch AS (
       SELECT nextval($1::regclass) AS id, ordinality, agent_id, run_id, type, "timestamp", payload
       FROM append_lock,
         unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[]) WITH ORDINALITY
           AS batch (agent_id, run_id, type, "timestamp", payload, ordinality)
       ORDER BY ordinality
     ),
     inserted AS (
       INSERT INTO ${events} (id, agent_id, run_id, type, "timestamp", payload)
       SELECT id, agent_id, run_id, type, "timestamp", payload FROM batch
       RETURNING *
     ),
     notified AS (SELECT pg_notify($7, MAX(id)::text) FROM inserted)
     SELECT inserted.*, batch.ordinality
     FROM inserted JOIN batch USING (id) CROSS JOIN notified
     ORDER BY batch.ordinality`,
  );
  const queue: QueuedEvent[] = [];
  let writing: Promise<void> | undefined;

  async function writeQueued(): Promise<void> {
    try {
      // Appends made in the same synchronous run as the first join its batch.
      await Promise.resolve();
      while (queue.length > 0) await writeBatch(queue.splice(0, MAX_BATCH_EVENTS));
    } finally {
      writing = undefined;
    }
  }

  async function writeBatch(batch: readonly QueuedEvent[]): Promise<void> {
    try {
      await options.beforeBatch();
      const rows = await insert(batch);
      batch.forEach((queued, index) => queued.resolve(rows[index]!));
    } catch (error) {
      if (batch.length > 1 && refusesData(error)) {
        for (const queued of batch) await writeBatch([queued]);
        return;
      }
      for (const queued of batch) queued.reject(error);
    }
  }

  /**
   * Inserts the batch under the append lock, in one statement (one round trip, its own
   * transaction): the lock is taken before any id is drawn and held until the statement
   * commits, so ids become visible in id order (see createPostgresEventLog). Returns the rows
   * in the batch's order.
   */
  async function insert(batch: readonly QueuedEvent[]): Promise<EventRow[]> {
    // unnest yields the rows in queue order and each draws its id as it comes, after the lock
    // (its rows need the lock's row), so ids follow the queue; each stored row is joined back
    // to its place in the batch by ordinality.
    const { rows } = await database.write<EventRow & { ordinality: string }>(appendStatement, [
      sequence,
      batch.map(({ event }) => event.agent_id),
      batch.map(({ event }) => event.run_id),
      batch.map(({ event }) => event.type),
      batch.map(({ event }) => event.timestamp),
      batch.map(({ payload }) => payload),
      channel,
      appendLock,
    ]);
    // Never hands anyone a row that is not theirs: a batch whose rows do not match it fails.
    const mapped = rows.every((row, index) => Number(row.ordinality) === index + 1);
    if (rows.length !== batch.length || !mapped) {
      throw new Error(`a batch of ${batch.length} events returned rows that do not match it`);
    }
    return rows;
  }

  return {
    write(event, payload) {
      return new Promise<EventRow>((resolve, reject) => {
        queue.push({ event, payload, resolve, reject });
        writing ??= writeQueued();
      });
    },

    async drain() {
      await writing;
    },
  };
}
