import { NightshiftError } from '../../errors.js';
import type { EventLog, NewEvent, NightshiftEvent } from '../contracts/event-log.js';
import { parseEventSequence } from '../event-sequence.js';
import {
  storedEventLogSettings,
  EVENT_LOG_LIMITS,
  type EventLogOptions,
} from '../event-log-options.js';
import { handToSubscribers, subscriberOf, type EventSubscriber } from '../event-subscribers.js';
import { eventFromRow, parseJsonColumn, type EventRow as SqlEventRow } from '../sql/row-mapping.js';
import { openDatabase, type SqliteConnectionOptions, type SqliteDatabase } from './connection.js';
import { PRUNE_LIMITS, pruneCutoff, pruneLimit } from '../prune-limits.js';

/** Options of {@link createSqliteEventLog}. */
export interface SqliteEventLogOptions extends SqliteConnectionOptions, EventLogOptions {
  /** How often subscribers look for events appended by other processes (default 200 ms). */
  pollIntervalMs?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 200;

/** An events row as SQLite gives it: the id an integer, the payload JSON text. */
type EventRow = SqlEventRow & { id: number };

interface Subscriber extends EventSubscriber {
  /** Id of the last event this subscriber was handed (or skipped); never moves back. */
  after: number;
}

const toEvent = (row: EventRow): NightshiftEvent => eventFromRow(row, parseJsonColumn);

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
  const { maxEvents, pollIntervalMs, onError, trimEvery } = storedEventLogSettings(
    options,
    DEFAULT_POLL_INTERVAL_MS,
  );
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

  // Retention: an agent's events by timestamp (index events_by_agent_timestamp, schema version 8).
  const countOlder = database.prepare<[string, string], { count: number }>(
    'SELECT COUNT(*) AS count FROM events WHERE agent_id = ? AND "timestamp" < ?',
  );
  const removeOlder = database.prepare<[string, string, number]>(`
    DELETE FROM events WHERE id IN (
      SELECT id FROM events WHERE agent_id = ? AND "timestamp" < ? ORDER BY id LIMIT ?
    )
  `);

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
      const rows = selectAfter.all(from, EVENT_LOG_LIMITS.deliveryBatch);
      for (const row of rows) {
        const isNew = (subscriber: Subscriber): boolean => {
          if (row.id <= subscriber.after) return false;
          subscriber.after = row.id;
          return true;
        };
        handToSubscribers(subscribers, row.agent_id, row.type, isNew, () => toEvent(row), onError);
      }
      if (rows.length < EVENT_LOG_LIMITS.deliveryBatch) return;
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
      const limit = Math.max(0, readOptions.limit ?? EVENT_LOG_LIMITS.readLimit);
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
        ...subscriberOf(listener, subscribeOptions),
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

    async prune(pruneOptions) {
      if (closed) throw new NightshiftError('storage_unavailable', 'the event log is closed');
      const limit = pruneLimit(pruneOptions.limit, PRUNE_LIMITS.events);
      const before = new Date(pruneCutoff(pruneOptions.before, 'before')).toISOString();
      const { agent_id: agentId } = pruneOptions;
      if (pruneOptions.dry_run) {
        return writes.read(['events'], () => countOlder.get(agentId, before)?.count ?? 0);
      }
      return writes.write(['events'], () => removeOlder.run(agentId, before, limit).changes);
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
