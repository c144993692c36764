import type { NotificationKind } from '../../config/notifications.js';
import type { ErrorInfo, RunTrigger, WaitingStatus } from './run-store.js';
import type { Usage } from './usage.js';
import type { EVENT_TYPES, ExactKeys } from './vocabulary.js';

/** Payload of each event type, snake_case. */
export interface EventPayloads {
  user_message: { message: string };
  agent_message: { message: string };
  tool_call_started: { tool_name: string; tool_args: unknown; tool_call_id: string };
  tool_call_result: {
    tool_name: string;
    tool_args: unknown;
    tool_call_id: string;
    result: unknown;
  };
  tool_call_error: {
    tool_name: string;
    tool_args: unknown;
    tool_call_id: string;
    error: string;
    timed_out: boolean;
    /** A resumed run did not run the call again: it may or may not have taken effect. */
    unknown_outcome?: boolean;
  };
  /** `output_json`: the answer parsed, when the agent has an `output_schema` (valid against it). */
  final_answer: { message: string; output_json?: unknown };
  /** Something in the run was not as it should be, and was corrected or left as it is (stable `code`). */
  run_warning: { code: string; message: string };
  /**
   * A check of `agent_config.guardrails` triggered: which, what it did, and where (with the tool
   * call for tool arguments and results). Never what it matched.
   */
  guardrail_triggered: {
    check: string;
    action: 'block' | 'redact' | 'flag';
    where: 'query' | 'tool_result' | 'tool_args' | 'answer';
    tool_name?: string;
    tool_call_id?: string;
  };
  background_task_started: {
    scheduled_at: string;
    trigger: RunTrigger;
    attempt: number;
    query: string;
  };
  /** A run whose process died goes on from its journal in a new attempt. */
  background_task_resumed: {
    attempt: number;
    /** The last step recorded before the process died (null: none was). */
    from_step: string | null;
    /** Model calls answered from the journal instead of being sent again. */
    skipped_model_calls: number;
    /** Calls of tools that are not idempotent, started and not finished: not run again. */
    unknown_outcome_calls: number;
  };
  /**
   * `output_json`: the answer parsed (valid against the agent's `output_schema`), null without
   * one; absent from events recorded before answers had a schema.
   */
  background_task_completed: {
    output: string;
    output_json?: unknown;
    duration_ms: number;
    usage: Usage;
  };
  background_task_error: { error: ErrorInfo; attempt: number; will_retry: boolean; status: string };
  background_task_skipped: { scheduled_at: string; reason: string };
  /**
   * A run stopped to wait (`awaiting_budget`) until a grant or the window's reset: it holds no
   * lease and no worker slot meanwhile, and goes on from its journal (`background_task_resumed`).
   */
  /** A tool call waits for a person (`agent_config.approvals`); its run waits in `awaiting_approval`. */
  approval_requested: {
    approval_id: string;
    tool_name: string;
    tool_call_id: string;
    /** The arguments the model asked for (redacted). */
    arguments: unknown;
    expires_at: string;
  };
  /** A person (or the timeout) decided a tool call: the run goes on from its journal. */
  approval_decided: {
    approval_id: string;
    tool_name: string;
    state: 'approved' | 'denied' | 'expired';
    decided_by: string;
    note: string | null;
    /** True when the call is to run with arguments the person gave. */
    edited: boolean;
  };
  background_task_waiting: {
    status: WaitingStatus;
    attempt: number;
    error: ErrorInfo;
    /** When waiting ends by itself (a budget window's reset, an approval's expiry); null when only a person can end it. */
    until: string | null;
  };
  /**
   * A budget would be crossed: a call was not made (the run ends `budget_exceeded`), or a tick
   * was skipped. Amounts in the budget's unit (dollars for `usd`).
   */
  budget_exhausted: {
    /** The budget's error code: `budget.agent.per_day.usd`, … */
    code: string;
    message: string;
    /** The counter: `agent:archiver:per_day:2026-12-03`, `fleet:per_month:2026-12`, … */
    budget: string;
    limit: number;
    spent: number;
    held: number;
    /** What the refused call would have held at most (0 for a skipped tick). */
    asked: number;
    /** When the budget's window starts again; null for a run's own budget. */
    resets_at: string | null;
  };
  /**
   * A person granted more of a budget (the ledger has it; its expiry is kept there, with no
   * event). Its `agent_id` is the agent's for an agent's budget; a tag's or the fleet's grant is
   * under `tag:<tag>` or `fleet:all`, which no agent id can be (agent ids have no `:`): it is in
   * the fleet's stream, in no agent's. `run_id` is null. Amounts in the budget's unit (dollars
   * for `usd`).
   */
  budget_granted: {
    grant_id: string;
    /** The counter it raised: `agent:archiver:per_day:2026-12-03`, `fleet:per_month:2026-12`, … */
    budget: string;
    scope: 'agent' | 'tag' | 'fleet';
    /** The agent id or the tag; null for the fleet. */
    name: string | null;
    window: 'per_day' | 'per_month';
    usd: number;
    tokens: number;
    requests: number;
    tool_calls: number;
    /** Who granted it. */
    by: string;
    /** Why. */
    note: string;
    /** When it stops counting before its window ends; null when it lasts the window. */
    expires_at: string | null;
    /** When its window ends, and the grant with it. */
    resets_at: string;
  };
  /**
   * An alert reached a notification target (a 2xx answer). Under the alerted event's agent and
   * run; `event_id` is the event it was about (the newest one, for a coalesced summary).
   */
  notification_sent: NotificationOutcome;
  /** An alert gave up: its retries ran out, the target refused it (a 4xx), or the service shut down. */
  notification_failed: NotificationOutcome & {
    /** Why it failed (redacted). */
    error: string;
  };
  background_task_missed: { missed: number; last_missed_at: string };
  background_agent_status: {
    state: string;
    is_running: boolean;
    pause_reason: string | null;
    next_run_at: string | null;
    reason?: string;
    /** Set when the status is announced because a budget of the agent ran out. */
    budget?: { code: string; budget: string; resets_at: string | null };
  };
}

/** How delivering one alert to one target ended (never its URL). */
export interface NotificationOutcome {
  /** The target's name. */
  target: string;
  kind: NotificationKind;
  event_id: string;
  /** Requests made, the first included. */
  attempts: number;
  /** The last answer's HTTP status, when there was one. */
  status_code?: number;
  /** Further events of the kind folded into this message (coalesced), when there were any. */
  coalesced?: number;
}

/** Every event type: {@link EVENT_TYPES}, which must name exactly the keys of {@link EventPayloads}. */
export type EventType = ExactKeys<EventPayloads, (typeof EVENT_TYPES)[number]>;

/**
 * What the payload of a run's event carries besides its own fields when the service traces runs
 * (`telemetry`): the run's OpenTelemetry trace id, to find its spans. Absent when traces are off
 * (so it is not part of each payload's type: read it as `(event.payload as TracedPayload)`).
 */
export interface TracedPayload {
  /** 32 hex digits: the trace of the run's active stretch this event belongs to. */
  trace_id?: string;
}

/** An event before the log gives it an id. */
export type NewEvent<T extends EventType = EventType> = {
  [K in T]: {
    type: K;
    agent_id: string;
    run_id: string | null;
    timestamp: string;
    payload: EventPayloads[K];
  };
}[T];

/** A stored event: a discriminated union on `type`, with the log's id. */
export type NightshiftEvent<T extends EventType = EventType> = NewEvent<T> & { id: string };

/** Options for reading the log. */
export interface ReadEventsOptions {
  /** Only this agent's events (default: the whole fleet). */
  agent_id?: string;
  /** Only events after this id (exclusive). `'0'` means from the start. */
  after?: string;
  /** At most this many, oldest first (default 1,000). */
  limit?: number;
}

/** Options of {@link EventLog.subscribe}. */
export interface SubscribeOptions {
  /** Only this agent's events. */
  agent_id?: string;
  /**
   * Only events of these types (all when undefined). A backend may then skip decoding the
   * events no subscriber wants: a process following the fleet for a few kinds of change does
   * not pay for every step of every run.
   */
  types?: readonly EventType[];
  /**
   * Called once the subscription's starting point is fixed: every event appended after that,
   * by any process, is delivered. Backends that learn it from the server call it once they have.
   */
  onReady?: () => void;
}

/** Which events {@link EventLog.prune} removes. */
export interface PruneEventsOptions {
  agent_id: string;
  /** Events whose `timestamp` is before this instant (ISO). */
  before: string;
  /** At most this many in one call (default 1,000), so no call holds a lock for long. */
  limit?: number;
  /** Counts what would go, every batch of it (no limit), and removes nothing. */
  dry_run?: boolean;
}

/** The event log: append, read back, and hear live appends. */
export interface EventLog {
  append(event: NewEvent): Promise<NightshiftEvent>;
  /** Stored events after `after`, oldest first. */
  read(options?: ReadEventsOptions): Promise<NightshiftEvent[]>;
  /**
   * Calls `listener` for each event appended from now on (in append order).
   * Returns the function that unsubscribes.
   */
  subscribe(listener: (event: NightshiftEvent) => void, options?: SubscribeOptions): () => void;
  /**
   * Retention: removes, oldest first, up to `limit` of the agent's events whose `timestamp` is
   * before `before` (from the agent's history and the fleet's). Events are appended in time
   * order, so a backend may stop at the agent's first event that is not older (Redis does).
   * Returns how many this call removed (with `dry_run`, how many it would remove). Safe from
   * several processes at once: an event is counted by the one call that removed it.
   */
  prune(options: PruneEventsOptions): Promise<number>;
  close(): Promise<void>;
}

/**
 * Orders event ids of every backend: plain sequence numbers (`42`) and
 * stream ids (`1700000000000-3`) alike.
 */
export function compareEventIds(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('-').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('-').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}
