import type { NightshiftEvent, SubscribeOptions } from './contracts/event-log.js';
import type { ErrorReporter } from './report-error.js';

/** One listener of an event log, the agent and the event types it listens to (all when undefined). */
export interface EventSubscriber {
  listener: (event: NightshiftEvent) => void;
  agentId: string | undefined;
  types: ReadonlySet<string> | undefined;
}

/** The listener part of a new subscriber, as `subscribe` was called. */
export function subscriberOf(
  listener: (event: NightshiftEvent) => void,
  options: SubscribeOptions,
): EventSubscriber {
  return {
    listener,
    agentId: options.agent_id,
    types: options.types === undefined ? undefined : new Set(options.types),
  };
}

/** Whether `subscriber` listens to events of this type (of some agent or other). */
export function wantsType(subscriber: EventSubscriber, type: string): boolean {
  return subscriber.types === undefined || subscriber.types.has(type);
}

/**
 * Hands one event, in turn, to each subscriber that is still subscribed, has not had it
 * (`isNew`, which may move the subscriber's cursor) and listens to its agent and its type. A listener's
 * error goes to `onError` and does not stop the others.
 */
export function handToSubscribers<Subscriber extends EventSubscriber>(
  subscribers: ReadonlySet<Subscriber>,
  agentId: string,
  type: string,
  isNew: (subscriber: Subscriber) => boolean,
  event: () => NightshiftEvent,
  onError: ErrorReporter,
): void {
  for (const subscriber of [...subscribers]) {
    if (!subscribers.has(subscriber) || !isNew(subscriber)) continue;
    if (subscriber.agentId !== undefined && subscriber.agentId !== agentId) continue;
    if (!wantsType(subscriber, type)) continue;
    try {
      subscriber.listener(event());
    } catch (error) {
      onError(error);
    }
  }
}
