import type { NightshiftEvent, RunRecord } from '../../storage/index.js';

/** What the history helpers read: the service's `readEvents` (forward reads after a cursor only). */
export interface EventReader {
  readEvents(options?: {
    agent_id?: string;
    after?: string;
    limit?: number;
  }): Promise<NightshiftEvent[]>;
}

/** The events of one run, and whether the bounded read reached all of them. */
export interface RunEvents {
  events: NightshiftEvent[];
  /** False when the read stopped at its bound before the run's last event. */
  complete: boolean;
}

/** How far before a run's first known instant its events are looked for (clocks of processes differ). */
const RUN_EVENTS_MARGIN_MS = 60_000;
/** Events read per page while collecting a run's events. */
const RUN_EVENTS_PAGE = 500;
/** Events of the agent looked at, at most, to collect one run's (a long run of a busy agent). */
const RUN_EVENTS_SCANNED = 10_000;
/** Extra events read past a tail's start: stream ids share a millisecond, so a cursor may land early. */
const TAIL_SLACK = 1000;
/** Probes one search may make; 2 × 53 covers every safe integer, so this only stops a broken log. */
const MAX_PROBES = 128;

/**
 * The first part of an event id as a number: the sequence of SQLite, Postgres and in-memory
 * logs (`42`), the millisecond of a Redis stream id (`1700000000000-3`). A read `after` that
 * number is a cursor every backend accepts.
 */
function cursorOf(id: string): number {
  return Number(id.split('-')[0]);
}

/**
 * The smallest cursor above `falseAt` where `holds` is true (`holds(falseAt)` is false and
 * `holds` turns true for good somewhere above): gallops up, then bisects, so a log of n events
 * costs about 2 log2(n) small reads however long it is.
 */
async function firstCursorWhere(
  falseAt: number,
  holds: (cursor: number) => Promise<boolean>,
): Promise<number> {
  let low = falseAt;
  let high: number | undefined;
  let probes = 0;
  for (let step = 1; high === undefined; step *= 2) {
    if ((probes += 1) > MAX_PROBES) throw new Error('the event log gave no boundary to seek');
    const probe = low + step;
    if (await holds(probe)) high = probe;
    else low = probe;
  }
  while (high - low > 1) {
    if ((probes += 1) > MAX_PROBES) break;
    const middle = Math.floor((low + high) / 2);
    if (await holds(middle)) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * The newest `count` events (of one agent, or of the fleet), oldest first. The log reads only
 * forward, so this seeks the cursor with `count` events after it instead of reading the history.
 */
export async function readRecentEvents(
  reader: EventReader,
  options: { agentId?: string; count: number },
): Promise<NightshiftEvent[]> {
  const filter = options.agentId === undefined ? {} : { agent_id: options.agentId };
  const { count } = options;
  const start = await reader.readEvents({ ...filter, limit: count + 1 });
  const oldest = start[0];
  if (!oldest || start.length <= count) return start;
  const fewer = async (cursor: number) =>
    (await reader.readEvents({ ...filter, after: String(cursor), limit: count })).length < count;
  // Reading after falseAt includes the oldest event, so more than `count`: `fewer` is false there.
  const falseAt = Math.max(0, cursorOf(oldest.id) - 1);
  const first = await firstCursorWhere(falseAt, fewer);
  const tail = await reader.readEvents({
    ...filter,
    after: String(first - 1),
    limit: count + TAIL_SLACK,
  });
  return tail.slice(-count);
}

/**
 * A cursor from which the log holds the events from about `instant` on (the first event after
 * it is the first at or after `instant`, as far as event times follow the log's order).
 */
export async function cursorNear(reader: EventReader, instant: number): Promise<string> {
  const oldest = (await reader.readEvents({ limit: 1 }))[0];
  if (!oldest || Date.parse(oldest.timestamp) >= instant) return '0';
  const reached = async (cursor: number) => {
    const first = (await reader.readEvents({ after: String(cursor), limit: 1 }))[0];
    return first === undefined || Date.parse(first.timestamp) >= instant;
  };
  const falseAt = Math.max(0, cursorOf(oldest.id) - 1);
  return String((await firstCursorWhere(falseAt, reached)) - 1);
}

/**
 * The events of one run, oldest first: read from shortly before the run began, among its
 * agent's events only, until shortly after it ended, and never more than a bounded number.
 */
export async function readRunEvents(reader: EventReader, run: RunRecord): Promise<RunEvents> {
  const instants = [run.created_at, run.scheduled_at, run.started_at]
    .filter((instant): instant is string => instant !== null)
    .map((instant) => Date.parse(instant));
  const begin = Math.min(...instants) - RUN_EVENTS_MARGIN_MS;
  const end = run.ended_at === null ? Infinity : Date.parse(run.ended_at) + RUN_EVENTS_MARGIN_MS;
  let after = await cursorNear(reader, begin);
  const events: NightshiftEvent[] = [];
  for (let scanned = 0; ;) {
    const page = await reader.readEvents({
      agent_id: run.agent_id,
      after,
      limit: RUN_EVENTS_PAGE,
    });
    for (const event of page) if (event.run_id === run.run_id) events.push(event);
    scanned += page.length;
    const last = page.at(-1);
    if (!last || page.length < RUN_EVENTS_PAGE || Date.parse(last.timestamp) > end) {
      return { events, complete: true };
    }
    if (scanned >= RUN_EVENTS_SCANNED) return { events, complete: false };
    after = last.id;
  }
}
