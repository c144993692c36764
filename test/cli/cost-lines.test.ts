import { describe, expect, it } from 'vitest';
import { describeRun, runReportLines } from '../../src/cli/describe-run.js';
import { createEventLineFormatter } from '../../src/cli/event-line.js';
import { eventSummary } from '../../src/cli/event-summary.js';
import { formatUsd, type RunReport } from '../../src/server/index.js';
import type { NightshiftEvent, RunRecord, Usage } from '../../src/storage/index.js';

const usage = (cost?: number): Usage => ({
  requests: 2,
  input_tokens: 800,
  output_tokens: 101,
  total_tokens: 901,
  ...(cost === undefined ? {} : { cost_usd: cost }),
});

const LONGEST = { value: 200, error: 200 };

/** A `background_task_completed` event of a run that used `used`. */
function completed(used: Usage): NightshiftEvent {
  return {
    id: '7',
    type: 'background_task_completed',
    agent_id: 'digest',
    run_id: 'digest.manual-1',
    timestamp: '2026-12-03T09:00:00.349Z',
    payload: { output: 'done', duration_ms: 349, usage: used },
  };
}

/** A completed run that used `used`. */
function run(used: Usage): RunRecord {
  return {
    run_id: 'digest.manual-1',
    agent_id: 'digest',
    trigger: 'manual',
    scheduled_at: '2026-12-03T09:00:00.000Z',
    created_at: '2026-12-03T09:00:00.000Z',
    started_at: '2026-12-03T09:00:00.000Z',
    ended_at: '2026-12-03T09:00:00.349Z',
    status: 'completed',
    query: 'Summarise the news.',
    attempts: [],
    output: 'done',
    output_json: null,
    error: null,
    usage: used,
    skip_reason: null,
    lease_owner: null,
    lease_expires_at: null,
  };
}

describe('money as the CLI prints it', () => {
  it('has up to 4 decimals below a dollar, 2 from one, and the millionth for less than $0.0001', () => {
    expect(formatUsd(0.0004)).toBe('$0.0004');
    expect(formatUsd(0.0123)).toBe('$0.0123');
    expect(formatUsd(0.12345)).toBe('$0.1235');
    // Never fewer than cents.
    expect(formatUsd(0.75)).toBe('$0.75');
    expect(formatUsd(0.5)).toBe('$0.50');
    expect(formatUsd(1.234)).toBe('$1.23');
    expect(formatUsd(1234.5)).toBe('$1,234.50');
    // Rounds up to a dollar: printed as one.
    expect(formatUsd(0.99996)).toBe('$1.00');
    expect(formatUsd(0.000042)).toBe('$0.000042');
    expect(formatUsd(0.00004)).toBe('$0.00004');
    expect(formatUsd(0)).toBe('$0.00');
  });

  it('ends the run line of `nightshift run` with the cost, when the run has one', () => {
    const line = createEventLineFormatter();
    expect(line(completed(usage(0.0004)))).toBe(
      '2026-12-03T09:00:00Z digest completed in 349 ms, 901 tokens, $0.0004',
    );
    expect(line(completed(usage(1.234)))).toBe(
      '2026-12-03T09:00:00Z digest completed in 349 ms, 901 tokens, $1.23',
    );
    // A free or unpriced model: no cost, and the line says nothing of money.
    expect(line(completed(usage()))).toBe(
      '2026-12-03T09:00:00Z digest completed in 349 ms, 901 tokens',
    );
  });

  it('prints the cost of a run and of each model call in `nightshift runs show`', () => {
    expect(describeRun(run(usage(0.0123)))).toBe(
      'digest.manual-1: completed in 349 ms, 901 tokens, $0.0123',
    );
    expect(describeRun(run(usage()))).toBe('digest.manual-1: completed in 349 ms, 901 tokens');

    const report = (used: Usage, call: Usage): RunReport => ({
      run: run(used),
      steps: [],
      timing: {
        scheduled_at: '2026-12-03T09:00:00.000Z',
        created_at: '2026-12-03T09:00:00.000Z',
        started_at: '2026-12-03T09:00:00.000Z',
        ended_at: '2026-12-03T09:00:00.349Z',
        duration_ms: 349,
        lateness_ms: 0,
      },
      timeline: [
        {
          kind: 'model_call',
          at: '2026-12-03T09:00:00.000Z',
          attempt: 1,
          step_id: '1.0',
          state: 'completed',
          ended_at: '2026-12-03T09:00:00.300Z',
          duration_ms: 300,
          usage: call,
          finish_reason: 'stop',
          reply: 'done',
          tool_calls: [],
        },
      ],
      events: null,
      events_complete: false,
      previous_run: null,
      next_run: null,
    });
    const priced = runReportLines(
      report(usage(0.0123), {
        requests: 1,
        input_tokens: 120,
        output_tokens: 30,
        total_tokens: 150,
        cost_usd: 0.00018,
      }),
    );
    expect(priced).toContain('cost          $0.0123');
    expect(priced).toContain(
      '  2026-12-03T09:00:00Z  model call 1.0: completed in 300 ms, 150 tokens (120 in, 30 out), $0.0002, finish stop',
    );
    const free = runReportLines(
      report(usage(), { requests: 1, input_tokens: 120, output_tokens: 30, total_tokens: 150 }),
    );
    expect(free).toContain('cost          - (free or unpriced model)');
    expect(free).toContain(
      '  2026-12-03T09:00:00Z  model call 1.0: completed in 300 ms, 150 tokens (120 in, 30 out), finish stop',
    );
  });

  it('summarises a completed event with its cost and a budget_exhausted event with its budget', () => {
    expect(eventSummary(completed(usage(0.0004)), LONGEST)).toBe(' in 349 ms, 901 tokens, $0.0004');
    expect(eventSummary(completed(usage()), LONGEST)).toBe(' in 349 ms, 901 tokens');
    const exhausted: NightshiftEvent = {
      id: '8',
      type: 'budget_exhausted',
      agent_id: 'digest',
      run_id: 'digest.manual-1',
      timestamp: '2026-12-03T09:00:00.349Z',
      payload: {
        code: 'budget.agent.per_day.usd',
        message: "the agent's per_day budget (budget_config.per_day) is spent",
        budget: 'agent:digest:per_day:2026-12-03',
        limit: 1,
        spent: 1,
        held: 0,
        asked: 0.002,
        resets_at: '2026-12-04T00:00:00.000Z',
      },
    };
    expect(eventSummary(exhausted, LONGEST)).toBe(
      ": budget.agent.per_day.usd: the agent's per_day budget (budget_config.per_day) is spent",
    );
  });
});
