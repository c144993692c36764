import { z } from 'zod';
import { GUARDRAIL_ACTIONS, GUARDRAIL_PLACES } from '../../config/guardrails.js';
import { NOTIFICATION_KINDS } from '../../config/notifications.js';
import { BUDGET_SCOPES, BUDGET_WINDOWS } from '../../errors.js';
import {
  EVENT_TYPES,
  RUN_TRIGGERS,
  WAITING_STATUSES,
  type EventPayloads,
  type EventType,
  type NightshiftEvent,
} from '../../storage/contracts/index.js';
import { describing } from './describing.js';
import { errorInfoSchema, instant, usageSchema } from './run-schemas.js';

const message = z.object({ message: z.string() });
const toolCall = { tool_name: z.string(), tool_args: z.unknown(), tool_call_id: z.string() };
const notificationOutcome = {
  target: z.string().describe("the target's name (never its URL)"),
  kind: z.enum(NOTIFICATION_KINDS),
  event_id: z.string().describe('the event alerted about (the newest, for a coalesced summary)'),
  attempts: z.number().int().min(0).describe('requests made, the first included'),
  status_code: z.number().int().optional().describe("the last answer's HTTP status"),
  coalesced: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('further events of the kind folded into this message'),
};

/** The payload of each event type (the map is checked against `EventPayloads` below). */
const payloadSchemas = {
  user_message: message,
  agent_message: message,
  tool_call_started: z.object(toolCall),
  tool_call_result: z.object({ ...toolCall, result: z.unknown() }),
  tool_call_error: z.object({
    ...toolCall,
    error: z.string(),
    timed_out: z.boolean(),
    unknown_outcome: z
      .boolean()
      .optional()
      .describe('A resumed run did not run the call again: it may or may not have taken effect.'),
  }),
  final_answer: z.object({
    message: z.string(),
    output_json: z
      .unknown()
      .optional()
      .describe('The answer parsed, when the agent has an `output_schema` (valid against it).'),
  }),
  run_warning: z.object({ code: z.string(), message: z.string() }),
  guardrail_triggered: z
    .object({
      check: z.string().describe('the check, by its name (given, or `<kind>[<index>]`)'),
      action: z.enum(GUARDRAIL_ACTIONS),
      where: z.enum(GUARDRAIL_PLACES),
      tool_name: z.string().optional(),
      tool_call_id: z.string().optional(),
    })
    .describe('A check of `agent_config.guardrails` triggered (never what it matched).'),
  background_task_started: z.object({
    scheduled_at: instant,
    trigger: z.enum(RUN_TRIGGERS),
    attempt: z.number().int().min(1),
    query: z.string(),
  }),
  background_task_resumed: z
    .object({
      attempt: z.number().int().min(1),
      from_step: z
        .string()
        .nullable()
        .describe('The last step recorded before the process died (null: none was).'),
      skipped_model_calls: z
        .number()
        .int()
        .min(0)
        .describe('Model calls answered from the journal instead of being sent again.'),
      unknown_outcome_calls: z
        .number()
        .int()
        .min(0)
        .describe(
          'Calls of tools that are not idempotent, started and not finished: not run again.',
        ),
    })
    .describe('A run whose process died goes on from its journal in a new attempt.'),
  background_task_completed: z.object({
    output: z.string(),
    output_json: z
      .unknown()
      .optional()
      .describe(
        'The answer parsed (valid against the agent’s `output_schema`); null without one, absent from events recorded before.',
      ),
    duration_ms: z.number().min(0),
    usage: usageSchema,
  }),
  background_task_error: z.object({
    error: errorInfoSchema,
    attempt: z.number().int().min(1),
    will_retry: z.boolean(),
    status: z.string(),
  }),
  background_task_skipped: z.object({ scheduled_at: instant, reason: z.string() }),
  approval_requested: z
    .object({
      approval_id: z.string(),
      tool_name: z.string(),
      tool_call_id: z.string(),
      arguments: z.unknown().describe('the arguments the model asked for (redacted)'),
      expires_at: instant,
    })
    .describe('A tool call waits for a person; its run waits in `awaiting_approval`.'),
  approval_decided: z
    .object({
      approval_id: z.string(),
      tool_name: z.string(),
      state: z.enum(['approved', 'denied', 'expired']),
      decided_by: z.string(),
      note: z.string().nullable(),
      edited: z.boolean().describe('the call runs with arguments the person gave'),
    })
    .describe('A person, or the timeout, decided a tool call: the run goes on from its journal.'),
  background_task_waiting: z
    .object({
      status: z.enum(WAITING_STATUSES),
      attempt: z.number().int().min(1),
      error: errorInfoSchema,
      until: instant
        .nullable()
        .describe("when waiting ends by itself (a budget window's reset, an approval's expiry)"),
    })
    .describe(
      'A run stopped to wait for a budget or a person: it holds no lease and no worker slot until a grant, the reset or the decision, then goes on from its journal.',
    ),
  background_task_missed: z.object({ missed: z.number().int().min(1), last_missed_at: instant }),
  background_agent_status: z.object({
    state: z.string(),
    is_running: z.boolean(),
    pause_reason: z.string().nullable(),
    next_run_at: instant.nullable(),
    reason: z.string().optional(),
    budget: z
      .object({ code: z.string(), budget: z.string(), resets_at: instant.nullable() })
      .optional()
      .describe('set when the status is announced because a budget of the agent ran out'),
  }),
  budget_exhausted: z
    .object({
      code: z.string().describe('the budget: `budget.agent.per_day.usd`, `budget.run.tokens`, …'),
      message: z.string(),
      budget: z.string().describe('the counter, e.g. `agent:archiver:per_day:2026-12-03`'),
      limit: z.number().min(0),
      spent: z.number().min(0),
      held: z.number().min(0),
      asked: z.number().min(0).describe('what the refused call would have held at most'),
      resets_at: instant.nullable().describe("when the window starts again; null for a run's own"),
    })
    .describe(
      "A call would cross a budget and was not made, or a tick was skipped: amounts in the budget's unit (dollars for usd).",
    ),
  budget_granted: z
    .object({
      grant_id: z.string(),
      budget: z
        .string()
        .describe('the counter it raised, e.g. `agent:archiver:per_day:2026-12-03`'),
      scope: z.enum(BUDGET_SCOPES),
      name: z.string().nullable().describe('the agent id or the tag; null for the fleet'),
      window: z.enum(BUDGET_WINDOWS),
      usd: z.number().min(0),
      tokens: z.number().int().min(0),
      requests: z.number().int().min(0),
      tool_calls: z.number().int().min(0),
      by: z.string().describe('who granted it'),
      note: z.string().describe('why'),
      expires_at: instant
        .nullable()
        .describe('when it stops counting before its window ends; null when it lasts the window'),
      resets_at: instant.describe('when its window ends, and the grant with it'),
    })
    .describe(
      "A person granted more of a budget: under the agent's id for an agent's budget, under `tag:<tag>` or `fleet:all` (no agent's id) for a tag's or the fleet's. Amounts in the budget's unit (dollars for usd).",
    ),
  notification_sent: z
    .object(notificationOutcome)
    .describe('An alert reached a notification target (a 2xx answer).'),
  notification_failed: z
    .object({ ...notificationOutcome, error: z.string().describe('why (redacted)') })
    .describe(
      'An alert gave up: its retries ran out, the target refused it (a 4xx), or the service shut down.',
    ),
} satisfies Record<EventType, z.ZodType>;

/** Each payload schema's output is its event type's payload, and every event type has one. */
describing<EventPayloads>()(z.object(payloadSchemas));

/** What every event carries besides its type and payload. */
const envelope = describing<Omit<NightshiftEvent, 'type' | 'payload'>>()(
  z.object({
    id: z.string(),
    agent_id: z.string(),
    run_id: z.string().nullable(),
    timestamp: instant,
  }),
);

function eventOf<Type extends EventType>(type: Type) {
  return envelope.extend({ type: z.literal(type), payload: payloadSchemas[type] });
}

/** The schema of each event type's events, one per member of the union. */
type EventSchema = { [Type in EventType]: ReturnType<typeof eventOf<Type>> }[EventType];

// `map` over the tuple loses which payload goes with which type; the check below restores it.
const eventSchemas = EVENT_TYPES.map(eventOf) as unknown as [EventSchema, ...EventSchema[]];

/** A stored event, as the log, the JSON reads and each server-sent event's `data` carry it. */
export const eventSchema = describing<NightshiftEvent>()(
  z.discriminatedUnion('type', eventSchemas),
);
