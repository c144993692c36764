import { NightshiftError } from '../../errors.js';
import type { EventLog, NewEvent, NightshiftEvent } from '../contracts/event-log.js';
import { parseEventSequence } from '../event-sequence.js';
import { warnOnError, type ErrorReporter } from '../report-error.js';
import { openDatabase, type SqliteConnectionOptions, type SqliteDatabase } from './database.js';

/** Options of {@link createSqliteEventLog}. */
export interface SqliteEventLogOptions extends SqliteConnectionOptions {
  /** Events kept; older ones are trimmed from time to time (default 100,000). */
  maxEvents?: number;
  /** How often subscribers look for events appended by other processes (default 200 ms). */
  pollIntervalMs?: number;
  /** Hears errors thrown by listeners and failed polls (default: a process warning). */
  onError?: ErrorReporter;
}

const DEFAULT_MAX_EVENTS = 100_000;
const DEFAULT_POLL_INTERVAL_MS = 200;
const DEFAULT_READ_LIMIT = 1_000;
/** Events delivered per query while catching subscribers up. */
const DELIVERY_BATCH = 500;
/** At most this many appends between trims, whatever `maxEvents` is. */
const MAX_APPENDS_BETWEEN_TRIMS = 1_000;

interface EventRow {
  id: number;
  agent_id: string;
  run_id: string | null;
  type: string;
  timestamp: string;
  payload: string;
}

interface Subscriber {
  listener: (event: NightshiftEvent) => void;
  agentId: string | undefined;
  /** Id of the last event this subscriber was handed (or skipped); never moves back. */
  after: number;
}

function toEvent(row: EventRow): NightshiftEvent {
  return {
    id: String(row.id),
    type: row.type,
    agent_id: row.agent_id,
    run_id: row.run_id,
    timestamp: row.timestamp,
    payload: JSON.parse(row.payload),
  } as NightshiftEvent;
}

/**
 * The event logs of this process on one connection, so an append through one reaches the
 * subscribers of the others at once rather than at their next poll.
 */
interface Siblings {
  /** Each log's delivery to its subscribers. */
  readonly logs: Set<() => void>;
  /** Delivers for every log; runs once after each batch that appended events. */
  readonly deliverAll: () => void;
}

const siblingsByDatabase = new WeakMap<SqliteDatabase, Siblings>();

function siblingsOf(database: SqliteDatabase): Siblings {
  let siblings = siblingsByDatabase.get(database);
  if (!siblings) {
    const logs = new Set<() => void>();
    siblings = { logs, deliverAll: () => [...logs].forEach((deliver) => deliver()) };
    siblingsByDatabase.set(database, siblings);
  }
  return siblings;
}

/**
 * An {@link EventLog} in a SQLite file. Appends in this process reach subscribers at
 * once; appends by other processes on the same file reach them by polling.
 */
export function createSqliteEventLog(options: SqliteEventLogOptions): EventLog {
  const maxEvents = Math.max(1, options.maxEvents ?? DEFAULT_MAX_EVENTS);
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const onError = options.onError ?? warnOnError;
  // Trimming scans the newest `maxEvents` ids, so it runs every tenth of them at most.
  const trimEvery = Math.min(MAX_APPENDS_BETWEEN_TRIMS, Math.ceil(maxEvents / 10));
  const connection = openDatabase(options);
  const { database, writes } = connection;

  const insert = database.prepare<[string, string | null, string, string, string]>(
    'INSERT INTO events (agent_id, run_id, type, timestamp, payload) VALUES (?, ?, ?, ?, ?)',
  );
  const selectAfter = database.prepare<[number, number], EventRow>(
    'SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?',
  );
  const selectAgentAfter = database.prepare<[string, number, number], EventRow>(
    'SELECT * FROM events WHERE agent_id = ? AND id > ? ORDER BY id LIMIT ?',
  );
  const selectNewestId = database.prepare<[], { id: number | null }>(
    'SELECT MAX(id) AS id FROM events',
  );
  // Deletes everything older than the `maxEvents` newest events; nothing when there are fewer.
  const trim = database.prepare<[number]>(
    'DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)',
  );

  const subscribers = new Set<Subscriber>();
  let pollTimer: NodeJS.Timeout | undefined;
  let delivering = false;
  let deliverAgain = false;
  let appendsSinceTrim = 0;
  let closed = false;

  /**
   * Hands each subscriber, in id order, every event after the last one it got. Reading
   * from the table (not from the append) is what keeps order when other processes
   * append in between; a listener that appends only asks for another round.
   */
  function deliver(): void {
    if (delivering) {
      deliverAgain = true;
      return;
    }
    delivering = true;
    try {
      do {
        deliverAgain = false;
        deliverBatches();
      } while (deliverAgain);
    } finally {
      delivering = false;
    }
  }

  function deliverBatches(): void {
    for (;;) {
      if (subscribers.size === 0) return;
      const from = Math.min(...[...subscribers].map((subscriber) => subscriber.after));
      const rows = selectAfter.all(from, DELIVERY_BATCH);
      for (const row of rows) {
        for (const subscriber of [...subscribers]) {
          if (!subscribers.has(subscriber) || row.id <= subscriber.after) continue;
          subscriber.after = row.id;
          if (subscriber.agentId !== undefined && subscriber.agentId !== row.agent_id) continue;
          try {
            subscriber.listener(toEvent(row));
          } catch (error) {
            onError(error);
          }
        }
      }
      if (rows.length < DELIVERY_BATCH) return;
    }
  }

  function poll(): void {
    try {
      deliver();
    } catch (error) {
      onError(error);
    }
  }

  const siblings = siblingsOf(database);
  siblings.logs.add(poll);

  function trimOccasionally(): void {
    appendsSinceTrim += 1;
    if (appendsSinceTrim < trimEvery) return;
    appendsSinceTrim = 0;
    trim.run(maxEvents);
  }

  trim.run(maxEvents);

  return {
    async append(event: NewEvent) {
      if (closed) throw new NightshiftError('storage_unavailable', 'the event log is closed');
      const payload = JSON.stringify(event.payload);
      // Subscribers here get the batch's events once it has committed, before append resolves.
      const id = await writes.write(
        ['events'],
        () => {
          const { lastInsertRowid } = insert.run(
            event.agent_id,
            event.run_id,
            event.type,
            event.timestamp,
            payload,
          );
          trimOccasionally();
          return lastInsertRowid;
        },
        { afterCommit: siblings.deliverAll },
      );
      return { ...event, payload: JSON.parse(payload), id: String(id) };
    },

    async read(readOptions = {}) {
      const after = parseEventSequence(readOptions.after ?? '0');
      const limit = Math.max(0, readOptions.limit ?? DEFAULT_READ_LIMIT);
      const rows = writes.read(['events'], () =>
        readOptions.agent_id === undefined
          ? selectAfter.all(after, limit)
          : selectAgentAfter.all(readOptions.agent_id, after, limit),
      );
      return rows.map(toEvent);
    },

    subscribe(listener, subscribeOptions = {}) {
      if (closed) throw new NightshiftError('storage_unavailable', 'the event log is closed');
      const subscriber: Subscriber = {
        listener,
        agentId: subscribeOptions.agent_id,
        // Appends issued before subscribing are not its to hear: commit them first.
        after: writes.read(['events'], () => selectNewestId.get())?.id ?? 0,
      };
      subscribers.add(subscriber);
      // Its starting point was read above, in this very call.
      if (subscribeOptions.onReady) queueMicrotask(subscribeOptions.onReady);
      if (!pollTimer) {
        pollTimer = setInterval(poll, pollIntervalMs);
        // Polling never keeps the process alive on its own.
        pollTimer.unref();
      }
      return () => {
        subscribers.delete(subscriber);
        if (subscribers.size === 0 && pollTimer) {
          clearInterval(pollTimer);
          pollTimer = undefined;
        }
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      subscribers.clear();
      if (pollTimer) clearInterval(pollTimer);
      pollTimer = undefined;
      siblings.logs.delete(poll);
      connection.release();
    },
  };
}
