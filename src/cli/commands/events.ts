import type { NightshiftEvent } from '../../storage/index.js';
import type { CliContext } from '../cli-context.js';
import { createEventLineFormatter, formatInstant } from '../event-line.js';
import { requireSelectedApi, type TargetSelection } from '../fleet-target.js';
import { readEventStream } from '../read-event-stream.js';
import { truncate } from '../table.js';

/** Options of `nightshift events`. */
export interface EventsCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  /** Keep printing live events until SIGINT / SIGTERM. */
  follow?: boolean;
  /** Start after this event id (default `0`: the whole stored history). */
  since?: string;
  /** One JSON event a line. */
  json?: boolean;
}

/** Longest detail (a message, tool arguments or a result) printed on an event's line. */
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
  const { api, redact } = requireSelectedApi(
    options,
    context.env,
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
    ...(options.since === undefined ? {} : { since: options.since }),
    onReconnect: (reason) =>
      context.err(redact(`warning: event stream lost (${reason}); resuming`)),
  });
  for await (const event of events) {
    context.out(redact(options.json ? JSON.stringify(event) : describe(event)));
  }
}

/** Formats every event on one line: `42  2026-…Z monitor run started (attempt 1)`. */
function createEventDescriber(): (event: NightshiftEvent) => string {
  const runLine = createEventLineFormatter();
  return (event) => {
    const line =
      runLine(event) ??
      `${formatInstant(event.timestamp)} ${event.agent_id} ${event.type}${eventDetail(event)}`;
    return `${event.id}  ${line}`;
  };
}

function eventDetail(event: NightshiftEvent): string {
  switch (event.type) {
    case 'user_message':
    case 'agent_message':
    case 'final_answer':
      return `: ${truncate(event.payload.message, LONGEST_DETAIL)}`;
    case 'tool_call_started':
      return ` ${event.payload.tool_name} ${compact(event.payload.tool_args)}`;
    case 'tool_call_result':
      return ` ${event.payload.tool_name} → ${compact(event.payload.result)}`;
    case 'tool_call_error':
      return ` ${event.payload.tool_name}: ${truncate(event.payload.error, LONGEST_DETAIL)}`;
    default:
      return ` ${compact(event.payload)}`;
  }
}

function compact(value: unknown): string {
  return truncate(JSON.stringify(value) ?? 'undefined', LONGEST_DETAIL);
}
