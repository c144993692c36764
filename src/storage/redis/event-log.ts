import { copyPlain } from '../../shared/copy-plain.js';
import { NightshiftError } from '../../errors.js';
import {
  compareEventIds,
  type EventLog,
  type NewEvent,
  type NightshiftEvent,
} from '../contracts/event-log.js';
import { EVENT_LOG_LIMITS, type EventLogOptions } from '../event-log-options.js';
import {
  handToSubscribers,
  subscriberOf,
  wantsType,
  type EventSubscriber,
} from '../event-subscribers.js';
import { groupCommit } from '../group-commit.js';
import { warnOnError } from '../report-error.js';
import {
  connectionName,
  createRedisConnection,
  keyPrefixOf,
  type RedisLocationOptions,
} from './connection.js';
import { startEventTail, type EventTail } from './event-tail.js';
import { redisKeys } from './keys.js';
import type { StreamEvent, StreamTrim } from './scripts.js';
import { rangeStartAfter, toEvent, typeOfEntry, type StreamEntry } from './stream-entry.js';
import { PRUNE_LIMITS, pruneCutoff, pruneLimit } from '../prune-limits.js';

/** Most events appended by one script call. */
const MAX_APPEND_BATCH = 200;

/** Entries read per round by a dry-run prune. */
const PRUNE_PAGE = 1_000;

/** The stream id right after `id`: a `MINID` that trims `id` and everything before it. */
function idAfter(id: string): string {
  const [ms = '0', sequence = '0'] = id.split('-');
  return `${ms}-${BigInt(sequence) + 1n}`;
}

/** The ids of `entries` from the first, up to the first event that is not older than `cutoff`. */
function olderPrefix(entries: readonly StreamEntry[], cutoff: number): string[] {
  const ids: string[] = [];
  for (const entry of entries) {
    let timestamp: number;
    try {
      timestamp = Date.parse(toEvent(entry).timestamp);
    } catch {
      // An entry some other writer put in the stream: as old as its place says.
      timestamp = Number.NEGATIVE_INFINITY;
    }
    if (!(timestamp < cutoff)) break;
    ids.push(entry[0]);
  }
  return ids;
}

/** Options of {@link createRedisStreamEventLog}. */
export interface RedisStreamEventLogOptions extends RedisLocationOptions, EventLogOptions {
  /**
   * Events kept in the fleet stream and in each agent's stream (default 100,000). Appends
   * trim with `MAXLEN ~`, which drops only whole stream nodes and so may keep up to a node
   * (100 entries by default) more; under 1,000 the trim is exact, as that slack would
   * dwarf the bound.
   */
  maxEvents?: number;
  /** @deprecated Use {@link RedisStreamEventLogOptions.maxEvents}, the name every backend uses. */
  maxLen?: number;
}

/** Below this, streams are trimmed exactly (see `maxEvents`). */
const APPROXIMATE_TRIM_FROM = 1_000;

interface Subscriber extends EventSubscriber {
  /** The newest event id when it subscribed; undefined until known (or if that failed). */
  after: string | undefined;
  /** Settles once `after` is known (or could not be learned). */
  started: Promise<string | undefined>;
}

function closedError(): NightshiftError {
  return new NightshiftError('storage_unavailable', 'the event log is closed');
}

/**
 * An {@link EventLog} in Redis streams: one stream for the fleet (`<prefix>events`) and one
 * per agent (`<prefix>events:<agent_id>`), an event holding the same id in both. Every
 * process sharing the Redis hears every append: one tail per log reads the fleet stream on
 * a blocking connection and hands events to its subscribers, in order, once each.
 */
export function createRedisStreamEventLog(options: RedisStreamEventLogOptions): EventLog {
  const prefix = keyPrefixOf(options);
  const keys = redisKeys(prefix);
  const onError = options.onError ?? warnOnError;
  const maxLength = Math.max(1, options.maxEvents ?? options.maxLen ?? EVENT_LOG_LIMITS.maxEvents);
  const trim: StreamTrim = { maxLength, mode: maxLength < APPROXIMATE_TRIM_FROM ? '=' : '~' };
  const connection = createRedisConnection(options.url, {
    name: connectionName(prefix, 'events'),
    keys,
  });
  const subscribers = new Set<Subscriber>();
  /** Tails being stopped (their last subscriber left), awaited by `close()`. */
  const stoppingTails = new Set<Promise<void>>();
  let tail: EventTail | undefined;
  let closed = false;

  /**
   * The id of the newest event. Sent on the command connection at once, so it is ordered
   * after every append this log has already sent.
   */
  async function newestId(): Promise<string> {
    const [newest] = await connection.run((client) =>
      client.xrevrange(keys.fleetEvents, '+', '-', 'COUNT', 1),
    );
    return newest?.[0] ?? '0-0';
  }

  function anyoneWants(type: string): boolean {
    for (const subscriber of subscribers) if (wantsType(subscriber, type)) return true;
    return false;
  }

  function deliver(entries: readonly StreamEntry[]): void {
    for (const entry of entries) {
      const type = typeOfEntry(entry);
      // An event no subscriber listens to is not decoded at all.
      if (type !== undefined && !anyoneWants(type)) continue;
      let event: NightshiftEvent;
      try {
        event = toEvent(entry);
      } catch (error) {
        // An entry some other writer put in the stream: skipped, so it cannot wedge the tail.
        onError(error);
        continue;
      }
      const isNew = (subscriber: Subscriber): boolean =>
        subscriber.after === undefined || compareEventIds(event.id, subscriber.after) > 0;
      handToSubscribers(
        subscribers,
        event.agent_id,
        event.type,
        isNew,
        () => copyPlain(event),
        onError,
      );
    }
  }

  function startTail(first: Subscriber): EventTail {
    return startEventTail({
      url: options.url,
      connectionName: connectionName(prefix, 'events-tail'),
      keys,
      streamKey: keys.fleetEvents,
      start: async () => (await first.started) ?? newestId(),
      beforeDelivery: () => Promise.all([...subscribers].map((subscriber) => subscriber.started)),
      deliver,
      onError,
    });
  }

  function stopTail(): void {
    if (!tail) return;
    const stopping = tail.stop();
    tail = undefined;
    stoppingTails.add(stopping);
    void stopping.finally(() => stoppingTails.delete(stopping));
  }

  // Appends made together go to Redis together: one script call (and one receipt) a batch.
  const appends = groupCommit<StreamEvent, string>(
    (events) =>
      connection.run(() => connection.scripts.appendEvents(keys.fleetEvents, trim, events)),
    MAX_APPEND_BATCH,
  );

  return {
    async append(event: NewEvent) {
      if (closed) throw closedError();
      const { type, agent_id, run_id, timestamp, payload } = event;
      const value = JSON.stringify({ type, agent_id, run_id, timestamp, payload });
      const id = await appends.write({ agentKey: keys.agentEvents(agent_id), type, value });
      return { ...(JSON.parse(value) as NewEvent), id };
    },

    async read(readOptions = {}) {
      const start = rangeStartAfter(readOptions.after ?? '0');
      const limit = Math.max(0, readOptions.limit ?? EVENT_LOG_LIMITS.readLimit);
      if (limit === 0) return [];
      const key =
        readOptions.agent_id === undefined
          ? keys.fleetEvents
          : keys.agentEvents(readOptions.agent_id);
      const entries = await connection.run((client) =>
        client.xrange(key, start, '+', 'COUNT', limit),
      );
      return (entries as StreamEntry[]).map(toEvent);
    },

    subscribe(listener, subscribeOptions = {}) {
      if (closed) throw closedError();
      const subscriber: Subscriber = {
        ...subscriberOf(listener, subscribeOptions),
        after: undefined,
        started: newestId().then(
          (id) => (subscriber.after = id),
          (error: unknown) => {
            // It hears events from wherever the tail starts instead.
            if (!closed) onError(error);
            return undefined;
          },
        ),
      };
      subscribers.add(subscriber);
      // Learned or not, the tail hears from here on.
      if (subscribeOptions.onReady) void subscriber.started.then(subscribeOptions.onReady);
      tail ??= startTail(subscriber);
      return () => {
        subscribers.delete(subscriber);
        // No one is listening: free the blocking connection until someone subscribes.
        if (subscribers.size === 0) stopTail();
      };
    },

    async prune(pruneOptions) {
      if (closed) throw closedError();
      const limit = pruneLimit(pruneOptions.limit, PRUNE_LIMITS.events);
      const cutoff = pruneCutoff(pruneOptions.before, 'before');
      const agentKey = keys.agentEvents(pruneOptions.agent_id);
      const oldest = async (start: string, count: number) =>
        (await connection.run((client) =>
          client.xrange(agentKey, start, '+', 'COUNT', count),
        )) as StreamEntry[];
      if (pruneOptions.dry_run) {
        let total = 0;
        for (let start = '-'; ;) {
          const entries = await oldest(start, PRUNE_PAGE);
          const ids = olderPrefix(entries, cutoff);
          total += ids.length;
          if (ids.length < entries.length || entries.length < PRUNE_PAGE) return total;
          start = `(${ids.at(-1)!}`;
        }
      }
      const ids = olderPrefix(await oldest('-', limit), cutoff);
      if (ids.length === 0) return 0;
      // The agent's stream is trimmed up to the last of them (exact MINID), and the same ids
      // leave the fleet's; a process pruning at once trims nothing more, and counts 0.
      const replies = await connection.run((client) =>
        client
          .multi()
          .xdel(keys.fleetEvents, ...ids)
          .xtrim(agentKey, 'MINID', '=', idAfter(ids.at(-1)!))
          .exec(),
      );
      return Number(replies?.[1]?.[1] ?? 0);
    },

    async close() {
      if (closed) return;
      closed = true;
      subscribers.clear();
      stopTail();
      await Promise.all(stoppingTails);
      await appends.drain();
      await connection.close();
    },
  };
}
