import { describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  parseAgentDefinition,
} from '../../src/index.js';
import { buildStatus } from '../../src/service/build-status.js';
import { EventPublisher } from '../../src/service/event-publisher.js';
import { Redactor } from '../../src/service/redactor.js';
import { newRunRecord } from '../../src/service/run-records.js';
import { RunTransitions } from '../../src/service/runs/run-transitions.js';
import {
  emptyStats,
  spendPeriodOf,
  type AgentRecord,
  type AgentStats,
  type Usage,
} from '../../src/storage/contracts/index.js';
import { createMemoryEventLog, createMemoryStore } from '../../src/storage/memory/index.js';

// Tokyo is UTC+9 all year: its midnight of 1 April 2026 is 2026-03-31T15:00:00Z.
const TOKYO_MIDNIGHT = Date.parse('2026-03-31T15:00:00.000Z');

/** An agent whose budget days are Tokyo's (a zone without cron needs budget_config). */
function agentRecord(stats: AgentStats = emptyStats(), timezone?: string): AgentRecord {
  const definition = parseAgentDefinition({
    agent_id: 'digest',
    interval: 3600,
    ...(timezone === undefined ? {} : { timezone, budget_config: { per_day: { usd: 5 } } }),
    model_config: {
      provider: 'scripted',
      script: [{ answer: 'ok' }],
      pricing: { input_per_million: 1, output_per_million: 2 },
    },
    task_config: { query: 'Summarise the news.' },
  });
  const at = new Date(TOKYO_MIDNIGHT - 86_400_000).toISOString();
  return {
    agent_id: 'digest',
    definition,
    state: 'active',
    pause_reason: null,
    anchor_at: at,
    created_at: at,
    updated_at: at,
    version: 1,
    stats,
  };
}

/** Run transitions on an in-memory store, with a clock the test sets. */
async function transitionsAt(record: AgentRecord) {
  const store = createMemoryStore();
  let now = new Date(TOKYO_MIDNIGHT);
  const clock = () => now;
  const transitions = new RunTransitions({
    store,
    events: new EventPublisher(createMemoryEventLog(), clock, new Redactor()),
    now: clock,
    instanceId: 'here',
    leaseTtlMs: 30_000,
  });
  await store.agents.insert(record);
  /** A run of the agent that starts now and ends at `endedAt` having used `usage`. */
  const runEndingAt = async (endedAt: number, usage: Usage) => {
    now = new Date(endedAt - 1000);
    const run = await transitions.claimRunning(
      newRunRecord({
        runId: `digest:${endedAt}`,
        agentId: 'digest',
        trigger: 'manual',
        scheduledAt: now,
        query: 'Summarise the news.',
        now,
        leaseOwner: 'here',
        leaseExpiresAt: new Date(now.getTime() + 30_000).toISOString(),
      }),
    );
    if (!run) throw new Error('the run was not claimed');
    now = new Date(endedAt);
    const ended = await transitions.finish(run, {
      status: 'completed',
      error: null,
      output: 'ok',
      usage,
      attempts: [],
    });
    if (!ended?.agent) throw new Error('the run did not end');
    return ended.agent;
  };
  return { store, runEndingAt };
}

const usage = (cost?: number): Usage => ({
  requests: 1,
  input_tokens: 300,
  output_tokens: 50,
  total_tokens: 350,
  ...(cost === undefined ? {} : { cost_usd: cost }),
});

describe('spend periods', () => {
  it("names the day and month of an instant in a zone, UTC by default or for a zone it doesn't know", () => {
    const before = new Date(TOKYO_MIDNIGHT - 1);
    expect(spendPeriodOf(before, 'Asia/Tokyo')).toEqual({ day: '2026-03-31', month: '2026-03' });
    expect(spendPeriodOf(new Date(TOKYO_MIDNIGHT), 'Asia/Tokyo')).toEqual({
      day: '2026-04-01',
      month: '2026-04',
    });
    expect(spendPeriodOf(new Date(TOKYO_MIDNIGHT))).toEqual({
      day: '2026-03-31',
      month: '2026-03',
    });
    expect(spendPeriodOf(new Date('2026-01-01T04:59:59Z'), 'America/New_York')).toEqual({
      day: '2025-12-31',
      month: '2025-12',
    });
    expect(spendPeriodOf(new Date(TOKYO_MIDNIGHT), 'Mars/Olympus')).toEqual({
      day: '2026-03-31',
      month: '2026-03',
    });
  });
});

describe("an agent's spend, by its time zone", () => {
  it("counts a run's cost in the day and month it ended in, in the agent's zone", async () => {
    const { runEndingAt } = await transitionsAt(agentRecord(emptyStats(), 'Asia/Tokyo'));
    // 23:59:59 in Tokyo on 31 March, then 00:00:01 on 1 April (both 31 March in UTC).
    const lastOfMarch = await runEndingAt(TOKYO_MIDNIGHT - 1000, usage(0.0004));
    expect(lastOfMarch.stats).toMatchObject({
      cost_total_usd: 0.0004,
      cost_day: { day: '2026-03-31', usd: 0.0004 },
      cost_month: { month: '2026-03', usd: 0.0004 },
    });
    const firstOfApril = await runEndingAt(TOKYO_MIDNIGHT + 1000, usage(0.0012));
    expect(firstOfApril.stats).toMatchObject({
      cost_total_usd: 0.0016,
      cost_day: { day: '2026-04-01', usd: 0.0012 },
      cost_month: { month: '2026-04', usd: 0.0012 },
    });
    // A run without a cost (a free or unpriced model) moves no spend.
    const free = await runEndingAt(TOKYO_MIDNIGHT + 2000, usage());
    expect(free.stats).toMatchObject({ run_count: 3, cost_total_usd: 0.0016 });
    expect(free.stats.cost_day).toEqual({ day: '2026-04-01', usd: 0.0012 });
  });

  it('counts days in UTC for an agent without a zone', async () => {
    const { runEndingAt } = await transitionsAt(agentRecord());
    const agent = await runEndingAt(TOKYO_MIDNIGHT + 1000, usage(0.25));
    expect(agent.stats.cost_day).toEqual({ day: '2026-03-31', usd: 0.25 });
    expect(agent.stats.cost_month).toEqual({ month: '2026-03', usd: 0.25 });
  });

  it("reports today's and this month's spend by the clock, 0 once a new day or month began", () => {
    const stats: AgentStats = {
      ...emptyStats(),
      cost_total_usd: 12.5,
      cost_day: { day: '2026-03-31', usd: 0.75 },
      cost_month: { month: '2026-03', usd: 3.25 },
    };
    const record = agentRecord(stats, 'Asia/Tokyo');
    const statusAt = (at: number) => buildStatus(record, 0, undefined, undefined, new Date(at));

    const lastSecond = statusAt(TOKYO_MIDNIGHT - 1000);
    expect(lastSecond).toMatchObject({
      cost_today_usd: 0.75,
      cost_month_usd: 3.25,
      cost_total_usd: 12.5,
    });
    // Past Tokyo's midnight: a new day and month there, though still 31 March in UTC.
    const nextSecond = statusAt(TOKYO_MIDNIGHT + 1000);
    expect(nextSecond).toMatchObject({
      cost_today_usd: 0,
      cost_month_usd: 0,
      cost_total_usd: 12.5,
    });

    // In the same month, only the day starts over.
    const midMonth: AgentStats = {
      ...stats,
      cost_day: { day: '2026-04-14', usd: 0.5 },
      cost_month: { month: '2026-04', usd: 2 },
    };
    const april15 = Date.parse('2026-04-14T15:00:00.000Z');
    const statusOn = (at: number) =>
      buildStatus(agentRecord(midMonth, 'Asia/Tokyo'), 0, undefined, undefined, new Date(at));
    expect(statusOn(april15 - 1000)).toMatchObject({ cost_today_usd: 0.5, cost_month_usd: 2 });
    expect(statusOn(april15 + 1000)).toMatchObject({ cost_today_usd: 0, cost_month_usd: 2 });
  });

  it('reports no spend for a record stored before costs were counted', () => {
    const { cost_total_usd: _total, cost_day: _day, cost_month: _month, ...older } = emptyStats();
    const record = agentRecord({ ...older, run_count: 3 } as AgentStats);
    expect(buildStatus(record, 0, undefined, undefined, new Date(TOKYO_MIDNIGHT))).toMatchObject({
      run_count: 3,
      cost_today_usd: 0,
      cost_month_usd: 0,
      cost_total_usd: 0,
    });
  });

  it("shows a priced run's cost in the agent's status", async () => {
    const service = new BackgroundAgentService(
      new MemoryRouter('in_memory'),
      new EventRouter('in_memory'),
    );
    await service.startManager();
    try {
      await service.create({
        agent_id: 'digest',
        interval: 3600,
        model_config: {
          provider: 'scripted',
          script: [{ answer: 'ok', usage: { input_tokens: 300, output_tokens: 50 } }],
          pricing: { input_per_million: 1, output_per_million: 2 },
        },
        task_config: { query: 'Summarise the news.' },
      });
      const run = await service.runNow('digest', { wait: true });
      // 300 tokens in at $1 a million and 50 out at $2 a million.
      expect(run.usage.cost_usd).toBe(0.0004);
      const status = await service.getAgentStatus('digest');
      expect(status).toMatchObject({
        cost_total_usd: 0.0004,
        cost_today_usd: 0.0004,
        cost_month_usd: 0.0004,
      });
    } finally {
      await service.shutdown({ timeout: 1000 });
    }
  });
});
