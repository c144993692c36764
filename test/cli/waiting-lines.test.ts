import { describe, expect, it } from 'vitest';
import { describeState } from '../../src/cli/describe-status.js';
import { createEventLineFormatter } from '../../src/cli/event-line.js';
import type { AgentStatus } from '../../src/service/index.js';
import type { NightshiftEvent } from '../../src/storage/index.js';

describe('a run waiting for a budget, as the CLI prints it', () => {
  it('has a run line saying which budget, until when, and how to end the wait', () => {
    const event: NightshiftEvent = {
      id: '9',
      type: 'background_task_waiting',
      agent_id: 'digest',
      run_id: 'digest.manual-1',
      timestamp: '2026-12-03T09:00:00.349Z',
      payload: {
        status: 'awaiting_budget',
        attempt: 1,
        error: {
          code: 'budget.fleet.per_day.usd',
          message: "the fleet's per_day budget (budgets.fleet.per_day) is spent",
        },
        until: '2026-12-04T00:00:00.000Z',
      },
    };
    expect(createEventLineFormatter()(event)).toBe(
      "2026-12-03T09:00:00Z digest awaiting_budget (budget.fleet.per_day.usd: the fleet's per_day budget (budgets.fleet.per_day) is spent), waiting until 2026-12-04T00:00:00Z or a grant; `nightshift budgets deny digest.manual-1` ends it",
    );
  });

  it('counts the runs waiting (for a budget or a person) in the agent’s state', () => {
    const status = { state: 'active', is_running: false, waiting_runs: 2 } as AgentStatus;
    expect(describeState(status)).toBe('active (2 runs waiting)');
    expect(describeState({ ...status, waiting_runs: 1, is_running: true })).toBe(
      'active (1 run waiting, running)',
    );
    expect(describeState({ ...status, waiting_runs: 0 })).toBe('active');
  });
});

describe('a run waiting for a person, as the CLI prints it', () => {
  it('names the tool, until when, and the command that decides; and the decision', () => {
    const format = createEventLineFormatter();
    const base = {
      id: '10',
      agent_id: 'scribe',
      run_id: 'scribe.manual-1',
      timestamp: '2026-12-03T09:00:00.349Z',
    };
    expect(
      format({
        ...base,
        type: 'background_task_waiting',
        payload: {
          status: 'awaiting_approval',
          attempt: 1,
          error: {
            code: 'approval_required',
            message: 'tool write_note waits for a person',
            approval: {
              approval_id: 'scribe.manual-1:call_1',
              tool_name: 'write_note',
              expires_at: '2026-12-04T09:00:00.000Z',
            },
          },
          until: '2026-12-04T09:00:00.000Z',
        },
      }),
    ).toBe(
      '2026-12-03T09:00:00Z scribe awaiting_approval of write_note (until 2026-12-04T09:00:00Z); `nightshift approvals approve scribe.manual-1:call_1 --by <you>` or `deny`',
    );
    expect(
      format({
        ...base,
        type: 'approval_decided',
        payload: {
          approval_id: 'scribe.manual-1:call_1',
          tool_name: 'write_note',
          state: 'approved',
          decided_by: 'ana',
          note: 'fine',
          edited: true,
        },
      }),
    ).toBe(
      '2026-12-03T09:00:00Z scribe approval scribe.manual-1:call_1 approved with edited arguments by ana (fine)',
    );
  });
});
