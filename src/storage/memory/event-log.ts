import { NightshiftError } from '../../errors.js';
import type { EventLog, NightshiftEvent } from '../contracts/event-log.js';
import { parseEventSequence } from '../event-sequence.js';
import { warnOnError, type ErrorReporter } from '../report-error.js';

/** Options of {@link createMemoryEventLog}. */
export interface MemoryEventLogOptions {
  /** Events kept; the oldest are dropped beyond this (default 10,000). */
  maxEvents?: number;
  /** Hears errors thrown by listeners (default: a process warning). */
  onError?: ErrorReporter;
}

const DEFAULT_MAX_EVENTS = 10_000;
const DEFAULT_READ_LIMIT = 1_000;

interface Subscriber {
  listener: (event: NightshiftEvent) => void;
  agentId: string | undefined;
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
      for (let event = pending.shift(); event; event = pending.shift()) {
        const sequence = Number(event.id);
        for (const subscriber of [...subscribers]) {
          if (!subscribers.has(subscriber) || sequence <= subscriber.after) continue;
          if (subscriber.agentId !== undefined && subscriber.agentId !== event.agent_id) continue;
          try {
            subscriber.listener(event);
          } catch (error) {
            onError(error);
          }
        }
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
      const stored = deepFreeze({ ...structuredClone(event), id: String(lastSequence) });
      events.push(stored);
      // Trim in batches: dropping one event from the front of the array on every append costs O(n).
      if (events.length > maxEvents + trimSlack) events.splice(0, events.length - maxEvents);
      pending.push(stored);
      dispatch();
      return stored;
    },

    async read(readOptions = {}) {
      const after = parseEventSequence(readOptions.after ?? '0');
      const limit = Math.max(0, readOptions.limit ?? DEFAULT_READ_LIMIT);
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
        listener,
        agentId: subscribeOptions.agent_id,
        after: lastSequence,
      };
      subscribers.add(subscriber);
      if (subscribeOptions.onReady) queueMicrotask(subscribeOptions.onReady);
      return () => {
        subscribers.delete(subscriber);
      };
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
