import { copyPlain } from '../../shared/copy-plain.js';
import type pg from 'pg';
import { NightshiftError } from '../../errors.js';
import type { EventLog, NewEvent, NightshiftEvent } from '../contracts/event-log.js';
import { parseEventSequence } from '../event-sequence.js';
import {
  storedEventLogSettings,
  EVENT_LOG_LIMITS,
  type EventLogOptions,
} from '../event-log-options.js';
import { handToSubscribers, subscriberOf, type EventSubscriber } from '../event-subscribers.js';
import { eventFromRow } from '../sql/row-mapping.js';
import { eventChannel, openDatabase, type PostgresConnectionOptions } from './connection.js';
import { createEventBatchWriter, type EventRow } from './event-batch-writer.js';
import { createNotificationListener } from './notification-listener.js';
import { PRUNE_LIMITS, pruneCutoff, pruneLimit } from '../prune-limits.js';

/** Options of {@link createPostgresEventLog}. */
export interface PostgresEventLogOptions extends PostgresConnectionOptions, EventLogOptions {
  /**
   * How often subscribers also look for new events without being notified (default 1 s):
   * a safety net under LISTEN/NOTIFY, not the way events normally arrive.
   */
  pollIntervalMs?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 1_000;

interface Subscriber extends EventSubscriber {
  /**
   * Id of the last event this subscriber was handed (or skipped); never moves back.
   * Undefined until the newest id at the time it subscribed has been read.
   */
  after: number | undefined;
  /** Told once `after` is known. */
  onReady: (() => void) | undefined;
}

/** What one event log shows the other logs of this process on the same pool and schema. */
interface LocalLog {
  /** Resolves once every subscriber has its starting point, so a later append reaches it. */
  settle(): Promise<void>;
  /** Looks for new events now. */
  deliver(): void;
  /**
   * An event just appended in this process: handed at once to each subscriber whose last
   * event is the one just before it (nothing can come between: ids become visible in id
   * order), without reading it back; the others are looked for as usual.
   */
  offer(row: EventRow): void;
}

/** Event logs by pool and schema, so an append reaches the subscribers of its siblings at once. */
const logsByPool = new WeakMap<pg.Pool, Map<string, Set<LocalLog>>>();

/** A copy of the payload: a row's parsed JSONB is handed out once per subscriber. */
const toEvent = (row: EventRow): NightshiftEvent => eventFromRow(row, copyPlain);

/**
 * An {@link EventLog} in a Postgres schema, shared by every process that uses it.
 *
 * Appending: appends are written in batches (group commit, see createEventBatchWriter).
 * Appends made while a batch is being written wait for the next one, which takes them all
 * (up to 500) in one transaction with one multi-row INSERT and one NOTIFY of its newest id,
 * so concurrent appends share a commit instead of queuing for the lock one by one. Each
 * append resolves with its own event once its batch has committed, or rejects with the
 * batch's error. Ids follow the order of the `append` calls on this log, so two appends
 * one after the other always get increasing ids.
 *
 * Ordering: each batch takes a transaction-level advisory lock before its ids are drawn
 * and holds it until it commits, so ids become visible in id order — a reader that sees an
 * id sees every smaller one that will ever exist. (Without it, a BIGSERIAL drawn later can
 * commit first, and a reader that moved past it would skip the earlier one.) This
 * serialises batches per schema, across processes; Postgres already serialises the commits
 * of notifying transactions, so little is lost.
 *
 * Delivery: each subscriber gets every event after the last one it was given, read from
 * the table in id order, so nothing is missed or repeated whatever wakes the log: its own
 * appends and those of its siblings in this process (at once), a NOTIFY carrying the new
 * id (from any process) on a dedicated LISTEN connection, a catch-up after that connection
 * comes back, and a slow safety poll while there are subscribers.
 */
export function createPostgresEventLog(options: PostgresEventLogOptions): EventLog {
  const { maxEvents, pollIntervalMs, onError, trimEvery } = storedEventLogSettings(
    options,
    DEFAULT_POLL_INTERVAL_MS,
  );
  const database = openDatabase(options);
  const events = database.table('events');
  const channel = eventChannel(database.schema);

  const subscribers = new Set<Subscriber>();
  let delivery: Promise<void> | undefined;
  let deliverAgain = false;
  /** The newest id offered while a delivery round was reading: a round after it looks for it if it missed it. */
  let offeredDuringDelivery = 0;
  /** This log's appends not yet handed to subscribers. */
  let appending = 0;
  /** The newest id a NOTIFY announced while this log's own appends were in flight. */
  let notifiedWhileAppending = 0;
  /** True while deliveries fail, so a database that is down is reported once, not every poll. */
  let failing = false;
  let pollTimer: NodeJS.Timeout | undefined;
  // The first append trims too, for events written before this log opened.
  let appendsSinceTrim = trimEvery - 1;
  let closed = false;

  const listening = createNotificationListener({
    clientConfig: database.clientConfig,
    channel,
    onNotification(payload) {
      const id = Number(payload);
      if (!anyBehind(id)) return;
      // Most likely this log's own batch, whose rows it is about to hand over without a read:
      // looked at again once its appends are handed over.
      if (appending > 0) notifiedWhileAppending = Math.max(notifiedWhileAppending, id);
      else deliver();
    },
    onListening: () => deliver(),
    onError: (error) => onError(database.storageError(error)),
  });

  /** Whether some subscriber has not had event `id` yet. */
  function anyBehind(id: number): boolean {
    for (const subscriber of subscribers)
      if (subscriber.after === undefined || !(subscriber.after >= id)) return true;
    return false;
  }

  /**
   * Looks for new events, one round at a time: a call during a round asks for another
   * round after it, so every wake-up is honoured and listeners are never re-entered.
   */
  function deliver(): void {
    if (closed) return;
    if (delivery) {
      deliverAgain = true;
      return;
    }
    delivery = deliveryRounds();
  }

  async function deliveryRounds(): Promise<void> {
    try {
      do {
        deliverAgain = false;
        await startSubscribers();
        await deliverBatches();
        // An event offered meanwhile was either read by this round or committed after it.
        if (offeredDuringDelivery > 0 && anyBehind(offeredDuringDelivery)) deliverAgain = true;
        offeredDuringDelivery = 0;
      } while (deliverAgain && !closed);
      failing = false;
    } catch (error) {
      // The poll tries again; until it succeeds, one report is enough.
      if (!failing) onError(error);
      failing = true;
    } finally {
      delivery = undefined;
    }
  }

  /** Gives new subscribers their starting point: the newest id now. */
  async function startSubscribers(): Promise<void> {
    const waiting = [...subscribers].filter((subscriber) => subscriber.after === undefined);
    if (waiting.length === 0) return;
    const { rows } = await database.read<{ id: string | null }>(
      `SELECT MAX(id) AS id FROM ${events}`,
    );
    const newest = Number(rows[0]?.id ?? 0);
    for (const subscriber of waiting) {
      subscriber.after ??= newest;
      subscriber.onReady?.();
      subscriber.onReady = undefined;
    }
  }

  /** Hands each subscriber, in id order, every event after the last one it got. */
  async function deliverBatches(): Promise<void> {
    for (;;) {
      const cursors = [...subscribers].flatMap((subscriber) => subscriber.after ?? []);
      if (cursors.length === 0) return;
      const { rows } = await database.read<EventRow>(
        `SELECT * FROM ${events} WHERE id > $1 ORDER BY id LIMIT $2`,
        [Math.min(...cursors), EVENT_LOG_LIMITS.deliveryBatch],
      );
      for (const row of rows) {
        const id = Number(row.id);
        const isNew = (subscriber: Subscriber): boolean => {
          if (subscriber.after === undefined || id <= subscriber.after) return false;
          subscriber.after = id;
          return true;
        };
        handToSubscribers(subscribers, row.agent_id, row.type, isNew, () => toEvent(row), onError);
      }
      if (rows.length < EVENT_LOG_LIMITS.deliveryBatch) return;
    }
  }

  const local: LocalLog = {
    async settle() {
      if (![...subscribers].some((subscriber) => subscriber.after === undefined)) return;
      deliver();
      await delivery;
    },
    deliver,
    offer(row) {
      if (closed) return;
      const id = Number(row.id);
      let behind = false;
      const isNext = (subscriber: Subscriber): boolean => {
        if (subscriber.after === id - 1) {
          subscriber.after = id;
          return true;
        }
        if (subscriber.after === undefined || subscriber.after < id) behind = true;
        return false;
      };
      // Not while a delivery round hands out older events: it, or a round after it, takes this one.
      if (delivery) offeredDuringDelivery = Math.max(offeredDuringDelivery, id);
      else
        handToSubscribers(subscribers, row.agent_id, row.type, isNext, () => toEvent(row), onError);
      if (behind) deliver();
    },
  };
  const byPool = logsByPool.get(database.pool) ?? new Map<string, Set<LocalLog>>();
  logsByPool.set(database.pool, byPool);
  const siblings = byPool.get(database.schema) ?? new Set<LocalLog>();
  byPool.set(database.schema, siblings);
  siblings.add(local);

  const writer = createEventBatchWriter({
    database,
    channel,
    // A subscriber of this process that is still reading its starting point would otherwise
    // count the batch's events as older than itself.
    beforeBatch: async () => {
      await Promise.all([...siblings].map((log) => log.settle()));
    },
  });

  async function trimOccasionally(): Promise<void> {
    appendsSinceTrim += 1;
    // After close the database is gone: the trim is the next log's work.
    if (appendsSinceTrim < trimEvery || closed) return;
    appendsSinceTrim = 0;
    try {
      // Deletes everything older than the `maxEvents` newest events; nothing when there are fewer.
      await database.write(
        `DELETE FROM ${events} WHERE id <= (SELECT id FROM ${events} ORDER BY id DESC LIMIT 1 OFFSET $1)`,
        [maxEvents],
      );
    } catch (error) {
      // The event is stored: a failed trim is the next trim's work, not the append's failure.
      onError(error);
    }
  }

  function stopPolling(): void {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = undefined;
  }

  function closedError(): NightshiftError {
    return new NightshiftError('storage_unavailable', 'the event log is closed');
  }

  return {
    async append(event: NewEvent) {
      if (closed) throw closedError();
      // Fails this append alone: a payload that is not JSON never reaches a batch.
      const payload = JSON.stringify(event.payload) as string | undefined;
      if (payload === undefined) throw new TypeError('an event payload must be JSON');
      appending += 1;
      let row: EventRow;
      try {
        row = await writer.write(event, payload);
        for (const log of [...siblings]) log.offer(row);
      } finally {
        appending -= 1;
        if (appending === 0 && notifiedWhileAppending > 0) {
          const notified = notifiedWhileAppending;
          notifiedWhileAppending = 0;
          if (anyBehind(notified)) deliver();
        }
      }
      await trimOccasionally();
      return toEvent(row);
    },

    async read(readOptions = {}) {
      const after = parseEventSequence(readOptions.after ?? '0');
      const limit = Math.max(0, readOptions.limit ?? EVENT_LOG_LIMITS.readLimit);
      const { rows } =
        readOptions.agent_id === undefined
          ? await database.read<EventRow>(
              `SELECT * FROM ${events} WHERE id > $1 ORDER BY id LIMIT $2`,
              [after, limit],
            )
          : await database.read<EventRow>(
              `SELECT * FROM ${events} WHERE agent_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
              [readOptions.agent_id, after, limit],
            );
      return rows.map(toEvent);
    },

    subscribe(listener, subscribeOptions = {}) {
      if (closed) throw closedError();
      const subscriber: Subscriber = {
        ...subscriberOf(listener, subscribeOptions),
        after: undefined,
        onReady: subscribeOptions.onReady,
      };
      subscribers.add(subscriber);
      listening.start();
      if (!pollTimer) {
        pollTimer = setInterval(deliver, pollIntervalMs);
        // Polling never keeps the process alive on its own.
        pollTimer.unref();
      }
      deliver();
      return () => {
        if (!subscribers.delete(subscriber) || subscribers.size > 0) return;
        stopPolling();
        void listening.stop();
      };
    },

    async prune(pruneOptions) {
      if (closed) throw closedError();
      const limit = pruneLimit(pruneOptions.limit, PRUNE_LIMITS.events);
      const before = new Date(pruneCutoff(pruneOptions.before, 'before')).toISOString();
      // Index events_by_agent_timestamp (schema version 8); times compared in "C" order.
      const older = `FROM ${events} WHERE agent_id = $1 AND "timestamp" COLLATE "C" < $2`;
      if (pruneOptions.dry_run) {
        const { rows } = await database.read<{ count: string }>(
          `SELECT COUNT(*) AS count ${older}`,
          [pruneOptions.agent_id, before],
        );
        return Number(rows[0]?.count ?? 0);
      }
      // Prunes at once pick the same rows: each row is deleted, and counted, by one of them.
      const { rowCount } = await database.write(
        `DELETE FROM ${events} WHERE id IN (SELECT id ${older} ORDER BY id LIMIT $3)`,
        [pruneOptions.agent_id, before, limit],
      );
      return rowCount ?? 0;
    },

    async close() {
      if (closed) return;
      closed = true;
      subscribers.clear();
      stopPolling();
      siblings.delete(local);
      await listening.stop();
      // Appends made before closing are written, not dropped.
      await writer.drain();
      await delivery;
      await database.release();
    },
  };
}
