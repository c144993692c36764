import type {
  EventLog,
  NewEvent,
  RunRecord,
  RunStep,
  RunStore,
  Usage,
} from '../../src/storage/index.js';

/**
 * A run whose process died while a tool that is not idempotent was running, resumed by recovery
 * in a second attempt that completed: a looked-up order (idempotent, its result cut to the
 * journal's cap), an email that may or may not have been sent (`unknown_outcome`), and the
 * model's answer. Written straight into a store, as the journal would have left it.
 */
export interface ResumedRun {
  run: RunRecord;
  steps: RunStep[];
  events: NewEvent[];
}

const usage = (input: number, output: number): Usage => ({
  requests: 1,
  input_tokens: input,
  output_tokens: output,
  total_tokens: input + output,
});

/** What the model was told of the email a resumed run did not send again. */
export const UNKNOWN_OUTCOME_MESSAGE =
  'the process running this call of send_email stopped before its result was recorded';

/** The model's final answer (two lines). */
export const RESUMED_ANSWER =
  'Order 42 shipped; the email may not have gone out.\nCheck the outbox.';

/** The resumed run of agent `agentId`, its instants from `base` (ms) on. */
export function resumedRun(agentId: string, base: number): ResumedRun {
  const at = (seconds: number) => new Date(base + seconds * 1000).toISOString();
  const runId = `${agentId}.manual-${base}-resumed`;
  const step = (fields: Omit<RunStep, 'run_id'>): RunStep => ({ run_id: runId, ...fields });
  const total = { requests: 3, input_tokens: 450, output_tokens: 90, total_tokens: 540 };
  const run: RunRecord = {
    run_id: runId,
    agent_id: agentId,
    trigger: 'manual',
    scheduled_at: at(0),
    created_at: at(0),
    started_at: at(0),
    ended_at: at(70),
    status: 'completed',
    query: 'Confirm order 42 to its buyer.',
    attempts: [
      {
        attempt: 1,
        started_at: at(0),
        ended_at: at(60),
        status: 'interrupted',
        error: { code: 'interrupted', message: 'the process running it stopped' },
        usage: { requests: 2, input_tokens: 300, output_tokens: 60, total_tokens: 360 },
        worker_id: 'box-1:11:dead',
      },
      {
        attempt: 2,
        started_at: at(61),
        ended_at: at(70),
        status: 'completed',
        error: null,
        usage: usage(150, 30),
        worker_id: 'box-2:22:live',
        resumed_from: '1.3',
      },
    ],
    output: RESUMED_ANSWER,
    output_json: null,
    error: null,
    usage: total,
    skip_reason: null,
    lease_owner: null,
    lease_expires_at: null,
  };
  const longResult = 'x'.repeat(60);
  const steps: RunStep[] = [
    step({
      step_id: '1.0',
      attempt: 1,
      index: 0,
      kind: 'model_call',
      state: 'completed',
      started_at: at(1),
      ended_at: at(2),
      usage: usage(100, 20),
      finish_reason: 'tool-calls',
      reply: {
        text: 'Let me look the order up first.',
        tool_calls: [{ tool_call_id: 'call-1', tool_name: 'lookup_order', args: { id: 42 } }],
        finish_reason: 'tool-calls',
      },
    }),
    step({
      step_id: '1.1',
      attempt: 1,
      index: 1,
      kind: 'tool_call',
      state: 'completed',
      started_at: at(3),
      ended_at: at(4),
      tool_name: 'lookup_order',
      tool_call_id: 'call-1',
      args: { id: 42 },
      idempotent: true,
      outcome: 'success',
      result: longResult,
      result_cut: { cap_chars: 60, original_chars: 5000 },
    }),
    step({
      step_id: '1.2',
      attempt: 1,
      index: 2,
      kind: 'model_call',
      state: 'completed',
      started_at: at(5),
      ended_at: at(6),
      usage: usage(200, 40),
      finish_reason: 'tool-calls',
      reply: {
        text: '',
        tool_calls: [
          {
            tool_call_id: 'call-2',
            tool_name: 'send_email',
            args: { to: 'buyer@example.com' },
          },
        ],
        finish_reason: 'tool-calls',
      },
    }),
    step({
      step_id: '1.3',
      attempt: 1,
      index: 3,
      kind: 'tool_call',
      state: 'started',
      started_at: at(7),
      ended_at: null,
      tool_name: 'send_email',
      tool_call_id: 'call-2',
      args: { to: 'buyer@example.com' },
      idempotent: false,
    }),
    step({
      step_id: '2.0',
      attempt: 2,
      index: 0,
      kind: 'resume',
      state: 'completed',
      started_at: at(60),
      ended_at: at(60),
      resumed_from: '1.3',
    }),
    step({
      step_id: '2.1',
      attempt: 2,
      index: 1,
      kind: 'tool_call',
      state: 'completed',
      started_at: at(62),
      ended_at: at(62),
      tool_name: 'send_email',
      tool_call_id: 'call-2',
      args: { to: 'buyer@example.com' },
      idempotent: false,
      outcome: 'unknown_outcome',
      error: UNKNOWN_OUTCOME_MESSAGE,
      result: { error: 'unknown_outcome', message: UNKNOWN_OUTCOME_MESSAGE },
    }),
    step({
      step_id: '2.2',
      attempt: 2,
      index: 2,
      kind: 'model_call',
      state: 'completed',
      started_at: at(63),
      ended_at: at(69),
      usage: usage(150, 30),
      finish_reason: 'stop',
      reply: { text: RESUMED_ANSWER, tool_calls: [], finish_reason: 'stop' },
    }),
  ];
  const event = <Type extends NewEvent['type']>(
    type: Type,
    seconds: number,
    payload: Extract<NewEvent, { type: Type }>['payload'],
  ) => ({ type, agent_id: agentId, run_id: runId, timestamp: at(seconds), payload }) as NewEvent;
  const email = { tool_name: 'send_email', tool_args: { to: 'buyer@example.com' } };
  const events: NewEvent[] = [
    event('background_task_started', 0, {
      scheduled_at: at(0),
      trigger: 'manual',
      attempt: 1,
      query: run.query,
    }),
    event('user_message', 0, { message: run.query }),
    event('tool_call_started', 3, {
      tool_name: 'lookup_order',
      tool_args: { id: 42 },
      tool_call_id: 'call-1',
    }),
    event('tool_call_result', 4, {
      tool_name: 'lookup_order',
      tool_args: { id: 42 },
      tool_call_id: 'call-1',
      result: { order: 42, status: 'shipped' },
    }),
    event('agent_message', 4, { message: 'Let me look the order up first.' }),
    event('tool_call_started', 7, { ...email, tool_call_id: 'call-2' }),
    event('background_task_error', 60, {
      error: { code: 'interrupted', message: 'the process running it stopped' },
      attempt: 1,
      will_retry: true,
      status: 'interrupted',
    }),
    event('background_task_started', 61, {
      scheduled_at: at(0),
      trigger: 'manual',
      attempt: 2,
      query: run.query,
    }),
    event('background_task_resumed', 61, {
      attempt: 2,
      from_step: '1.3',
      skipped_model_calls: 2,
      unknown_outcome_calls: 1,
    }),
    event('tool_call_error', 62, {
      ...email,
      tool_call_id: 'call-2',
      error: UNKNOWN_OUTCOME_MESSAGE,
      timed_out: false,
      unknown_outcome: true,
    }),
    event('final_answer', 69, { message: RESUMED_ANSWER }),
    event('background_task_completed', 70, {
      output: RESUMED_ANSWER,
      duration_ms: 70_000,
      usage: total,
    }),
  ];
  return { run, steps, events };
}

/** Writes the run and its steps into a store, and (when given) its events into a log. */
export async function writeResumedRun(
  fixture: ResumedRun,
  runs: RunStore,
  events?: EventLog,
): Promise<void> {
  await runs.claim(fixture.run);
  for (const step of fixture.steps) await runs.appendStep(step);
  if (events) for (const event of fixture.events) await events.append(event);
}
