import type { NightshiftEvent } from '../../storage/index.js';
import type { CliContext } from '../cli-context.js';
import { createEventLineFormatter, formatInstant } from '../event-line.js';
import { eventSummary } from '../event-summary.js';
import { requireSelectedApi, type TargetSelection } from '../fleet-target.js';
import { readEventStream } from '../read-event-stream.js';

/** Options of `nightshift events`. */
export interface EventsCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  /** Keep printing live events until SIGINT / SIGTERM. */
  follow?: boolean;
  /** Start after this event id (default `0`: the whole stored history). */
  since?: string;
  /** One JSON event a line. */
  json?: boolean;
}

/** Longest detail (a message, tool arguments, a result or an error) printed on an event's line. */
const LONGEST_DETAIL = 160;

/**
 * `nightshift events [agent_id]`: an agent's (or the fleet's) events through a server's API:
 * the stored history, then with `--follow` live events until SIGINT / SIGTERM, resuming after
 * a dropped connection without losing or repeating one.
 */
export async function eventsCommand(
  agentId: string | undefined,
  options: EventsCommandOptions,
  context: CliContext,
): Promise<void> {
  const { api, redact, say } = requireSelectedApi(
    options,
    context,
    'events reads the live events of a running Nightshift',
  );
  const stop = new AbortController();
  if (options.follow) {
    void context.waitForStop().then(() => stop.abort());
  }
  const describe = createEventDescriber();
  const events = readEventStream(api, {
    agentId,
    follow: Boolean(options.follow),
    signal: stop.signal,
    since: options.since,
    onReconnect: (reason) =>
      context.err(redact(`warning: event stream lost (${reason}); resuming`)),
  });
  for await (const event of events) {
    say(options.json ? JSON.stringify(event) : describe(event));
  }
}

/** Formats every event on one line: `42  2026-…Z monitor run started (attempt 1)`. */
function createEventDescriber(): (event: NightshiftEvent) => string {
  const runLine = createEventLineFormatter();
  return (event) => {
    const line =
      runLine(event) ??
      `${formatInstant(event.timestamp)} ${event.agent_id} ${event.type}${eventSummary(event, { value: LONGEST_DETAIL, error: LONGEST_DETAIL })}`;
    return `${event.id}  ${line}`;
  };
}
