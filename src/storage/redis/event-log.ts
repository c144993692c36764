import { NightshiftError } from '../../errors.js';
import {
  compareEventIds,
  type EventLog,
  type NewEvent,
  type NightshiftEvent,
} from '../contracts/event-log.js';
import { EVENT_LOG_LIMITS, type EventLogOptions } from '../event-log-options.js';
import { handToSubscribers, subscriberOf, type EventSubscriber } from '../event-subscribers.js';
import { warnOnError } from '../report-error.js';
import {
  connectionName,
  createRedisConnection,
  keyPrefixOf,
  type RedisLocationOptions,
} from './connection.js';
import { startEventTail, type EventTail } from './event-tail.js';
import { redisKeys } from './keys.js';
import type { StreamTrim } from './scripts.js';
import { rangeStartAfter, toEvent, type StreamEntry } from './stream-entry.js';

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

  function deliver(entries: readonly StreamEntry[]): void {
    for (const entry of entries) {
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
      handToSubscribers(subscribers, event.agent_id, isNew, () => structuredClone(event), onError);
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

  return {
    async append(event: NewEvent) {
      if (closed) throw closedError();
      const { type, agent_id, run_id, timestamp, payload } = event;
      const value = JSON.stringify({ type, agent_id, run_id, timestamp, payload });
      const id = await connection.run(() =>
        connection.scripts.appendEvent(keys.fleetEvents, keys.agentEvents(agent_id), trim, value),
      );
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

    async close() {
      if (closed) return;
      closed = true;
      subscribers.clear();
      stopTail();
      await Promise.all(stoppingTails);
      await connection.close();
    },
  };
}
