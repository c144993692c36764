import { describe, expect, it, vi } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  parseAgentDefinition,
  type AgentStatus,
  type RunRecord,
  type WorkerInfo,
} from '../../src/index.js';
import {
  buildFleetOverview,
  OVERVIEW_RUN_BUDGET,
  type OverviewReader,
} from '../../src/server/dashboard/fleet-overview.js';
import type { FleetOverview } from '../../src/server/dashboard/fleet-overview-types.js';
import { onCleanup, scriptedAgent, startTestServer } from './server-fixtures.js';
import { storedAgentRecord } from '../helpers/stored-agent-record.js';

const MINUTE = 60_000;

/**
 * A service whose clock the test moves back, so runs end minutes or hours ago, with an agent
 * stored as an older version may have left it: one that cannot run (reported `invalid`).
 */
async function fleetWithHistory() {
  let offset = 0;
  const memory = new MemoryRouter('in_memory');
  const store = await memory.connect();
  await store.agents.insert(
    storedAgentRecord('broken', {
      ...parseAgentDefinition(scriptedAgent('broken')),
      interval: 0.0001,
    }),
  );
  const service = new BackgroundAgentService(memory, new EventRouter('in_memory'), {
    now: () => new Date(Date.now() + offset),
  });
  await service.startManager();
  onCleanup(() => service.shutdown({ timeout: 1000 }));
  await service.create(scriptedAgent('steady'));
  await service.create(
    scriptedAgent('flaky', {
      model_config: { provider: 'scripted', script: [{ fail: 'upstream returned 503' }] },
    }),
  );
  await service.create(scriptedAgent('idle'));
  const ran: RunRecord[] = [];
  const runAgo = async (agentId: string, minutes: number) => {
    offset = -minutes * MINUTE;
    ran.push(await service.runNow(agentId, { wait: true }));
  };
  for (const minutes of [150, 90, 30, 5]) await runAgo('steady', minutes);
  for (const minutes of [100, 20]) await runAgo('flaky', minutes);
  offset = 0;
  await service.startAgent('steady');
  return { service, ran };
}

describe('the fleet overview', () => {
  it('GET /api/overview: agents by state, runs per minute by status, failures, usage today', async () => {
    const { service, ran } = await fleetWithHistory();
    const { api } = await startTestServer({}, service);
    const dayStart = new Date(Date.now() - 60 * MINUTE).toISOString();
    const answer = await api('GET', `/api/overview?hours=3&day_start=${dayStart}`);
    expect(answer.status).toBe(200);
    const overview = answer.body as FleetOverview;

    expect(overview.agents.total).toBe(4);
    expect(overview.agents.by_state).toEqual({
      active: 1,
      paused: 0,
      stopped: 0,
      created: 2,
      invalid: 1,
    });
    expect(overview.agents.invalid).toEqual([
      { agent_id: 'broken', invalid_reason: expect.stringMatching(/interval/) },
    ]);
    expect(overview.in_flight).toEqual({ runs: 0, agents: [] });

    expect(overview.window).toMatchObject({ hours: 3, bucket_minutes: 1 });
    expect(overview.runs.buckets).toHaveLength(180);
    expect(overview.runs.totals).toEqual({ completed: 4, failed: 2 });
    expect(overview.runs.failures).toBe(2);
    for (const run of ran) {
      const ended = Date.parse(run.ended_at ?? '');
      const bucket = overview.runs.buckets.find(
        (candidate) =>
          ended >= Date.parse(candidate.start) && ended < Date.parse(candidate.start) + MINUTE,
      );
      expect(bucket?.counts[run.status], run.run_id).toBeGreaterThanOrEqual(1);
    }
    expect(overview.runs.failures_by_hour.reduce((sum, hour) => sum + hour.count, 0)).toBe(2);
    expect(overview.runs.recent_failures.map((failure) => failure.agent_id)).toEqual([
      'flaky',
      'flaky',
    ]);
    expect(overview.runs.recent_failures[0]?.error?.code).toBe('model_error');

    // Today started an hour ago: the runs of 30, 20 and 5 minutes ago.
    const today = ran.filter((run) => Date.parse(run.ended_at ?? '') >= Date.parse(dayStart));
    expect(today).toHaveLength(3);
    expect(overview.usage_today).toMatchObject({
      since: dayStart,
      runs: 3,
      total_tokens: today.reduce((sum, run) => sum + run.usage.total_tokens, 0),
      requests: today.reduce((sum, run) => sum + run.usage.requests, 0),
      complete: true,
    });
    // The idle agent and the invalid one have no runs to read.
    expect(overview.coverage).toEqual({ agents_read: 2, runs_read: 6, complete_since: null });

    const hourly = (await api('GET', '/api/overview?hours=24')).body as FleetOverview;
    expect(hourly.window.bucket_minutes).toBe(8);
    expect(hourly.runs.buckets).toHaveLength(180);
    for (const bad of [
      'hours=0',
      'hours=25',
      'day_start=yesterday',
      'day_start=2020-01-01T00:00:00Z',
    ]) {
      const refused = await api('GET', `/api/overview?${bad}`);
      expect({ bad, status: refused.status }).toEqual({ bad, status: 400 });
    }
    expect((await api('GET', '/api/overview', undefined, { Authorization: '' })).status).toBe(401);
  });

  it("sums today's spend over the runs that ended since the day began", async () => {
    const now = Date.parse('2026-12-03T12:00:00Z');
    const dayStart = new Date('2026-12-03T00:00:00Z');
    const ended = (agentId: string, minutesAgo: number, cost?: number): RunRecord => {
      const at = new Date(now - minutesAgo * MINUTE).toISOString();
      return {
        run_id: `${agentId}.${minutesAgo}`,
        agent_id: agentId,
        trigger: 'schedule',
        scheduled_at: at,
        created_at: at,
        started_at: at,
        ended_at: at,
        status: 'completed',
        query: 'q',
        attempts: [],
        output: null,
        output_json: null,
        error: null,
        usage: {
          requests: 1,
          input_tokens: 1,
          output_tokens: 1,
          total_tokens: 2,
          ...(cost === undefined ? {} : { cost_usd: cost }),
        },
        skip_reason: null,
        lease_owner: null,
        lease_expires_at: null,
      };
    };
    const runs: Record<string, RunRecord[]> = {
      // Newest first; the last one ended yesterday.
      priced: [ended('priced', 5, 0.1), ended('priced', 60, 0.2), ended('priced', 800, 5)],
      // A free or unpriced model's runs have no cost.
      free: [ended('free', 10)],
    };
    const agents = Object.keys(runs).map((agentId): AgentStatus => ({
      agent_id: agentId,
      state: 'active',
      is_running: false,
      running_runs: 0,
      waiting_runs: 0,
      run_count: runs[agentId]?.length ?? 0,
      error_count: 0,
      skip_count: 0,
      missed_count: 0,
      consecutive_failures: 0,
      last_run_at: new Date(now - 5 * MINUTE).toISOString(),
      last_run_status: 'completed',
      last_error: null,
      next_run_at: null,
      avg_duration_ms: 0,
      total_tokens: 0,
      pause_reason: null,
      paused_by: null,
      paused_until: null,
      tags: [],
      created_at: new Date(now - 86_400_000).toISOString(),
      updated_at: new Date(now - 86_400_000).toISOString(),
      schedule: { interval: 60 },
      cost_today_usd: 0,
      cost_month_usd: 0,
      cost_total_usd: 0,
    }));
    const overview = await buildFleetOverview(
      { listAgents: async () => agents, listRuns: async (agentId) => runs[agentId] ?? [] },
      { hours: 3, dayStart, now: new Date(now) },
    );
    // 0.1 + 0.2, to the millionth: not 0.30000000000000004.
    expect(overview.usage_today).toMatchObject({ runs: 3, cost_usd: 0.3, complete: true });
  });

  it('reads a bounded number of runs however large the fleet, and says from when counts are whole', async () => {
    const now = Date.parse('2026-11-20T12:00:00Z');
    const busy = 1000;
    const agents: AgentStatus[] = Array.from({ length: busy + 200 }, (_, index) => {
      const idle = index >= busy;
      return {
        agent_id: `agent_${String(index).padStart(4, '0')}`,
        state: 'active',
        is_running: false,
        running_runs: index === 3 ? 1 : 0,
        waiting_runs: 0,
        run_count: 500,
        error_count: 0,
        skip_count: 0,
        missed_count: 0,
        consecutive_failures: 0,
        // Idle agents last ran two days ago: nothing of theirs is in the window.
        last_run_at: new Date(idle ? now - 48 * 60 * MINUTE : now - MINUTE).toISOString(),
        last_run_status: 'completed',
        last_error: null,
        next_run_at: null,
        avg_duration_ms: 10,
        total_tokens: 0,
        pause_reason: null,
        paused_by: null,
        paused_until: null,
        tags: [],
        created_at: new Date(now).toISOString(),
        updated_at: new Date(now).toISOString(),
        schedule: { interval: 20 },
        cost_today_usd: 0,
        cost_month_usd: 0,
        cost_total_usd: 0,
      };
    });
    const read: Array<{ agentId: string; limit: number }> = [];
    const reader: OverviewReader = {
      listAgents: async () => agents,
      listRuns: async (agentId, options = {}) => {
        const limit = options.limit ?? 50;
        read.push({ agentId, limit });
        // A run every 20 seconds, newest first: far more than the window's share.
        return Array.from({ length: limit }, (_, index) => {
          const ended = new Date(now - index * 20_000).toISOString();
          return {
            run_id: `${agentId}.${index}`,
            agent_id: agentId,
            trigger: 'schedule',
            scheduled_at: ended,
            created_at: ended,
            started_at: ended,
            ended_at: ended,
            status: index % 10 === 0 ? 'failed' : 'completed',
            query: 'q',
            attempts: [],
            output: null,
            output_json: null,
            error: null,
            usage: { requests: 1, input_tokens: 1, output_tokens: 1, total_tokens: 2 },
            skip_reason: null,
            lease_owner: null,
            lease_expires_at: null,
          } satisfies RunRecord;
        });
      },
    };
    const overview = await buildFleetOverview(reader, {
      hours: 3,
      dayStart: new Date(now - 12 * 60 * MINUTE),
      now: new Date(now),
    });
    expect(new Set(read.map(({ agentId }) => agentId)).size).toBe(busy);
    expect(read.some(({ agentId }) => Number(agentId.slice(6)) >= busy)).toBe(false);
    expect(overview.coverage.runs_read).toBeLessThanOrEqual(OVERVIEW_RUN_BUDGET);
    expect(overview.coverage.agents_read).toBe(busy);
    // Twenty runs of each agent reach back about six minutes: earlier counts are partial.
    expect(Date.parse(overview.coverage.complete_since ?? '')).toBeGreaterThan(now - 10 * MINUTE);
    expect(overview.usage_today.complete).toBe(false);
    expect(overview.in_flight.runs).toBe(1);
    expect(overview.runs.failures).toBeGreaterThan(0);
  });

  it('GET /api/workers: empty with the in-process scheduler, else every worker by id', async () => {
    const { api, service } = await startTestServer();
    expect((await api('GET', '/api/workers')).body).toEqual({ workers: [] });
    const heartbeat = new Date().toISOString();
    const workers: WorkerInfo[] = [
      {
        worker_id: 'worker-b',
        host: 'box-2',
        pid: 202,
        started_at: heartbeat,
        last_heartbeat: heartbeat,
        running_runs: [],
      },
      {
        worker_id: 'worker-a',
        host: 'box-1',
        pid: 101,
        started_at: heartbeat,
        last_heartbeat: heartbeat,
        running_runs: ['steady.1'],
      },
    ];
    vi.spyOn(service, 'listWorkers').mockResolvedValue(workers);
    const listed = await api('GET', '/api/workers');
    expect(listed.body.workers.map((worker: WorkerInfo) => worker.worker_id)).toEqual([
      'worker-a',
      'worker-b',
    ]);
    expect(listed.body.workers[0]).toEqual(workers[1]);
    expect((await api('GET', '/api/workers', undefined, { Authorization: '' })).status).toBe(401);
  });

  it('GET /api/events/recent: the newest events of the fleet or of one agent, oldest first', async () => {
    const { api, service } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('steady'));
    await api('POST', '/api/agents', scriptedAgent('other'));
    for (let index = 0; index < 3; index += 1) {
      await api('POST', '/api/agents/steady/run', { wait: true });
      await api('POST', '/api/agents/other/run', { wait: true });
    }
    const own = await service.readEvents({ agent_id: 'steady' });
    const recent = await api('GET', '/api/events/recent?agent_id=steady&limit=5');
    expect(recent.body.events).toEqual(own.slice(-5));
    const fleet = await api('GET', '/api/events/recent?limit=4');
    expect(fleet.body.events).toEqual((await service.readEvents({})).slice(-4));
    expect((await api('GET', '/api/events/recent?agent_id=steady')).body.events).toEqual(own);
    expect((await api('GET', '/api/events/recent?agent_id=ghost')).status).toBe(404);
    expect((await api('GET', '/api/events/recent?limit=0')).status).toBe(400);
    expect((await api('GET', '/api/events/recent?limit=501')).status).toBe(400);
  });
});
