import type { NotificationKind } from '../../config/notifications.js';
import type { NightshiftEvent } from '../../storage/contracts/index.js';
import type { AlertMessage, FoldedEvents } from './coalescer.js';

/** The longest an error or a reason is quoted in a one-line summary. */
const QUOTE_CHARS = 300;

/** What a webhook target is sent: the JSON body, before it is signed. */
export interface WebhookBody {
  kind: NotificationKind;
  /** The Nightshift event the alert is about, redacted (the newest held, for a summary). */
  event: NightshiftEvent;
  agent_id: string;
  run_id: string | null;
  /** `<dashboard_url>/inbox`; absent without a dashboard URL. */
  inbox_url?: string;
  /** The one-line summary a Slack target gets. */
  summary: string;
  /** Further events of the kind, for the agent, folded into this message. */
  coalesced?: { count: number; window_seconds: number };
}

/** The dashboard inbox's address under `dashboardUrl`, or undefined without one. */
export function inboxUrl(dashboardUrl: string | undefined): string | undefined {
  if (dashboardUrl === undefined) return undefined;
  return `${dashboardUrl.replace(/\/+$/, '')}/inbox`;
}

/** A webhook's body for `message` (its event already redacted). */
export function webhookBody(message: AlertMessage, inbox: string | undefined): WebhookBody {
  const { event, folded } = message;
  return {
    kind: message.kind,
    event,
    agent_id: event.agent_id,
    run_id: event.run_id,
    ...(inbox === undefined ? {} : { inbox_url: inbox }),
    summary: summaryLine(message),
    ...(folded ? { coalesced: { count: folded.count, window_seconds: folded.windowSeconds } } : {}),
  };
}

/** A Slack incoming webhook's body: one readable line, and the inbox link. */
export function slackBody(message: AlertMessage, inbox: string | undefined): { text: string } {
  const link = inbox === undefined ? '' : ` <${inbox}|Open the inbox>`;
  return { text: `Nightshift: ${summaryLine(message)}${link}` };
}

/** `digest: budget.agent.per_day.usd: … (and 12 more budget_exhausted for digest in the last minute)`. */
export function summaryLine(message: AlertMessage): string {
  const line = eventLine(message.kind, message.event);
  const { folded } = message;
  if (!folded) return line;
  return `${line} (and ${folded.count} more ${message.kind} for ${message.event.agent_id} in the last ${windowText(folded)})`;
}

/** What one event says, in a line. */
function eventLine(kind: NotificationKind, event: NightshiftEvent): string {
  const agent = event.agent_id;
  const run = event.run_id === null ? '' : ` ${event.run_id}`;
  switch (event.type) {
    case 'approval_requested':
      return `${agent} asks to run ${event.payload.tool_name} (run${run}); approve or deny it before ${event.payload.expires_at}`;
    case 'background_task_error': {
      const { error, status } = event.payload;
      const how = kind === 'run_interrupted' ? 'was interrupted' : `ended ${status}`;
      return `run${run} of ${agent} ${how}: ${error.code}: ${quote(error.message)}`;
    }
    case 'background_agent_status':
      return `${agent} was paused after repeated failures${event.payload.pause_reason ? `: ${quote(event.payload.pause_reason)}` : ''}`;
    case 'budget_exhausted':
      return `${agent} ran out of budget: ${event.payload.code}: ${quote(event.payload.message)}`;
    default:
      return `${kind} for ${agent}`;
  }
}

function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > QUOTE_CHARS ? `${flat.slice(0, QUOTE_CHARS - 1)}…` : flat;
}

/** `minute`, `2 minutes`, `30 seconds`, `hour`. */
function windowText({ windowSeconds }: FoldedEvents): string {
  const unit = (count: number, name: string) => (count === 1 ? name : `${count} ${name}s`);
  if (windowSeconds % 3600 === 0) return unit(windowSeconds / 3600, 'hour');
  if (windowSeconds % 60 === 0) return unit(windowSeconds / 60, 'minute');
  return unit(windowSeconds, 'second');
}
