import { copyPlain } from '../../shared/copy-plain.js';
import { NightshiftError } from '../../errors.js';
import type { EventLog, NightshiftEvent } from '../contracts/event-log.js';
import { parseEventSequence } from '../event-sequence.js';
import { EVENT_LOG_LIMITS, type EventLogOptions } from '../event-log-options.js';
import { handToSubscribers, subscriberOf, type EventSubscriber } from '../event-subscribers.js';
import { warnOnError } from '../report-error.js';
import { PRUNE_LIMITS, pruneCutoff, pruneLimit } from '../prune-limits.js';

/** Options of {@link createMemoryEventLog}. */
export type MemoryEventLogOptions = EventLogOptions;

/** Fewer than a stored log: they are held in this process's memory. */
const DEFAULT_MAX_EVENTS = 10_000;

interface Subscriber extends EventSubscriber {
  /** Sequence number of the newest event appended before it subscribed. */
  after: number;
}

/** An {@link EventLog} held in this process's memory, with a bounded history. */
export function createMemoryEventLog(options: MemoryEventLogOptions = {}): EventLog {
  const maxEvents = Math.max(1, options.maxEvents ?? DEFAULT_MAX_EVENTS);
  const trimSlack = Math.max(1, Math.floor(maxEvents / 10));
  const onError = options.onError ?? warnOnError;
  /** Stored events, oldest first; event `n` has id `String(n)`. */
  const events: NightshiftEvent[] = [];
  const subscribers = new Set<Subscriber>();
  /** Appended events not yet handed to every subscriber. */
  const pending: NightshiftEvent[] = [];
  let lastSequence = 0;
  let dispatching = false;
  let closed = false;

  /**
   * Hands pending events to subscribers one event at a time. A listener that appends
   * only queues its event, so every subscriber still hears events in append order.
   */
  function dispatch(): void {
    if (dispatching) return;
    dispatching = true;
    try {
      for (let next = pending.shift(); next; next = pending.shift()) {
        const event = next;
        const sequence = Number(event.id);
        const isNew = (subscriber: Subscriber): boolean => sequence > subscriber.after;
        handToSubscribers(subscribers, event.agent_id, event.type, isNew, () => event, onError);
      }
    } finally {
      dispatching = false;
    }
  }

  return {
    async append(event) {
      if (closed) throw new NightshiftError('storage_unavailable', 'the event log is closed');
      lastSequence += 1;
      // Stored events never change: one frozen copy is shared by readers and subscribers.
      const stored = deepFreeze({ ...copyPlain(event), id: String(lastSequence) });
      events.push(stored);
      // Trim in batches: dropping one event from the front of the array on every append costs O(n).
      if (events.length > maxEvents + trimSlack) events.splice(0, events.length - maxEvents);
      pending.push(stored);
      dispatch();
      return stored;
    },

    async read(readOptions = {}) {
      const after = parseEventSequence(readOptions.after ?? '0');
      const limit = Math.max(0, readOptions.limit ?? EVENT_LOG_LIMITS.readLimit);
      const found: NightshiftEvent[] = [];
      // Up to trimSlack older events may still sit in the array; they are out of the history.
      for (let index = Math.max(0, events.length - maxEvents); index < events.length; index += 1) {
        const event = events[index];
        if (!event) continue;
        if (found.length >= limit) break;
        if (Number(event.id) <= after) continue;
        if (readOptions.agent_id !== undefined && event.agent_id !== readOptions.agent_id) continue;
        found.push(event);
      }
      return found;
    },

    subscribe(listener, subscribeOptions = {}) {
      const subscriber: Subscriber = {
        ...subscriberOf(listener, subscribeOptions),
        after: lastSequence,
      };
      subscribers.add(subscriber);
      if (subscribeOptions.onReady) queueMicrotask(subscribeOptions.onReady);
      return () => {
        subscribers.delete(subscriber);
      };
    },

    async prune(pruneOptions) {
      const limit = pruneLimit(pruneOptions.limit, PRUNE_LIMITS.events);
      const cutoff = pruneCutoff(pruneOptions.before, 'before');
      const due: number[] = [];
      // Oldest first, up to the agent's first event that is not older (appends are in time order).
      for (let index = Math.max(0, events.length - maxEvents); index < events.length; index += 1) {
        const event = events[index]!;
        if (event.agent_id !== pruneOptions.agent_id) continue;
        if (!(Date.parse(event.timestamp) < cutoff)) break;
        due.push(index);
        if (!pruneOptions.dry_run && due.length >= limit) break;
      }
      if (pruneOptions.dry_run) return due.length;
      for (const index of due.reverse()) events.splice(index, 1);
      return due.length;
    },

    async close() {
      closed = true;
      subscribers.clear();
    },
  };
}

/** Freezes a plain JSON value all the way down, and returns it. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
