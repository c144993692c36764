import {
  compareEventIds,
  type EventLog,
  type NightshiftEvent,
} from '../storage/contracts/index.js';

/** Options of `streamAgentEvents`. */
export interface StreamEventsOptions {
  /** `'0'` replays the stored history first; an event id resumes after that event. Default: live only. */
  since?: string | undefined;
  /** Ends the stream at once when it aborts. */
  signal?: AbortSignal;
}

const PAGE = 1000;

/**
 * A live stream of the log's events (one agent's, or the fleet's when `agentId` is undefined).
 * It subscribes before it reads history, so no event falls between the two, and it never
 * yields an event twice or out of order. `return()` and the signal end it at once, even while
 * it waits for the next event.
 */
export function streamEvents(
  logPromise: Promise<EventLog>,
  agentId: string | undefined,
  options: StreamEventsOptions = {},
): AsyncIterableIterator<NightshiftEvent> {
  const buffered: NightshiftEvent[] = [];
  const filter = agentId === undefined ? {} : { agent_id: agentId };
  let wake: (() => void) | undefined;
  let done = false;
  let lastId: string | undefined = options.since;
  let unsubscribe: (() => void) | undefined;

  const finish = () => {
    if (done) return;
    done = true;
    unsubscribe?.();
    options.signal?.removeEventListener('abort', finish);
    wake?.();
  };
  if (options.signal?.aborted) finish();
  options.signal?.addEventListener('abort', finish, { once: true });

  const ready = logPromise.then(async (log) => {
    if (done) return;
    unsubscribe = log.subscribe((event) => {
      buffered.push(event);
      wake?.();
    }, filter);
    if (done) unsubscribe();
    if (options.since === undefined) return;
    const history: NightshiftEvent[] = [];
    for (let after = options.since; ;) {
      const page = await log.read({ ...filter, after, limit: PAGE });
      history.push(...page);
      const last = page.at(-1);
      if (page.length < PAGE || !last) break;
      after = last.id;
    }
    buffered.unshift(...history);
  });

  const next = async (): Promise<IteratorResult<NightshiftEvent>> => {
    await Promise.race([
      ready,
      new Promise<void>((resolve) => (done ? resolve() : (wake = resolve))),
    ]);
    for (;;) {
      if (done) return { done: true, value: undefined };
      const event = buffered.shift();
      if (event) {
        if (lastId !== undefined && compareEventIds(event.id, lastId) <= 0) continue;
        lastId = event.id;
        return { done: false, value: event };
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  };

  return {
    next,
    return: async () => {
      finish();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
