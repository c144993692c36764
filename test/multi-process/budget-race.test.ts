/**
 * One fleet budget, two manager processes, many agents ticking at once on Postgres and Redis:
 * together they spend exactly the budget, never a request more.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { uniqueName } from '../storage/postgres-server.js';
import { startManager, type ManagerProcess } from './multi-process.js';
import { testableBackends } from './shared-backends.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Agents ticking together, and the fleet's requests a day: far fewer than they would make. */
const AGENTS = 12;
const FLEET_REQUESTS = 60;
const BUDGETS = { fleet: { per_day: { requests: FLEET_REQUESTS } } };
/** Runs started together by two processes, and the fleet's requests a day they race for. */
const BURST_RUNS = 200;
const BURST_REQUESTS = 150;

describe.each(testableBackends())('a fleet budget raced by two processes on $name', (backend) => {
  it('spends exactly the budget: every request held before it is made, then ticks skipped', async () => {
    const namespace = uniqueName('ns_budget');
    cleanups.push(() => backend.drop(namespace));
    const control = new BackgroundAgentService(
      new MemoryRouter(backend.memory, { url: backend.url, namespace }),
      new EventRouter(backend.events, { url: backend.url, namespace }),
      { budgets: BUDGETS },
    );
    cleanups.push(() => control.shutdown());
    for (let index = 0; index < AGENTS; index += 1) {
      const agentId = `racer_${index}`;
      await control.create({
        agent_id: agentId,
        interval: 0.2,
        overlap_policy: 'allow',
        model_config: { provider: 'scripted', script: [{ answer: `${agentId} ok` }] },
        task_config: { query: 'q', max_retries: 0 },
      });
      await control.startAgent(agentId);
    }
    const environment = {
      NIGHTSHIFT_TEST_URL: backend.url,
      NIGHTSHIFT_TEST_MEMORY: backend.memory,
      NIGHTSHIFT_TEST_EVENTS: backend.events,
      NIGHTSHIFT_TEST_NAMESPACE: namespace,
      NIGHTSHIFT_TEST_BUDGETS: JSON.stringify(BUDGETS),
    };
    const managers: ManagerProcess[] = await Promise.all([
      startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'budget-1' }),
      startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'budget-2' }),
    ]);
    cleanups.push(async () => Promise.all(managers.map((manager) => manager.stop())));

    // The budget is spent, and ticks after it were skipped for it.
    const [fleet] = (await control.listBudgets()).filter((entry) => entry.scope === 'fleet');
    expect(fleet).toBeDefined();
    await waitFor(
      async () => {
        const budgets = await control.listBudgets();
        const current = budgets.find((entry) => entry.scope === 'fleet');
        if (!current || current.spent.requests < FLEET_REQUESTS) return undefined;
        const skipped = await control.listRuns('racer_0', { status: 'skipped', limit: 1000 });
        return skipped.some((run) => run.skip_reason?.startsWith('budget:')) ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(await Promise.all(managers.map((manager) => manager.stop()))).toEqual([0, 0]);

    let requests = 0;
    let completed = 0;
    const byProcess = new Set<string>();
    for (let index = 0; index < AGENTS; index += 1) {
      for (const run of await control.listRuns(`racer_${index}`, { limit: 10_000 })) {
        requests += run.usage.requests;
        if (run.status === 'completed') {
          completed += 1;
          for (const attempt of run.attempts) byProcess.add(attempt.worker_id ?? '');
        } else if (run.status !== 'skipped') {
          // A run that found the budget spent at its request ends budget_exceeded, sending nothing.
          expect(run).toMatchObject({
            status: 'budget_exceeded',
            error: { code: 'budget.fleet.per_day.requests' },
          });
        }
      }
    }
    // Exactly the budget: each completed run made its one request, and no run made one past it.
    expect(requests).toBe(FLEET_REQUESTS);
    expect(completed).toBe(FLEET_REQUESTS);
    expect([...byProcess].sort()).toEqual(['budget-1', 'budget-2']);
    const [after] = (await control.listBudgets()).filter((entry) => entry.scope === 'fleet');
    expect(after).toMatchObject({ spent: { requests: FLEET_REQUESTS }, held: { requests: 0 } });
  }, 90_000);

  it('holds 200 runs started at once, by two processes, to exactly the budget', async () => {
    const namespace = uniqueName('ns_budget_burst');
    cleanups.push(() => backend.drop(namespace));
    const burst = { fleet: { per_day: { requests: BURST_REQUESTS } } };
    const control = new BackgroundAgentService(
      new MemoryRouter(backend.memory, { url: backend.url, namespace }),
      new EventRouter(backend.events, { url: backend.url, namespace }),
      { budgets: burst },
    );
    cleanups.push(() => control.shutdown());
    for (let index = 0; index < BURST_RUNS; index += 1) {
      const agentId = `burst_${index}`;
      await control.create({
        agent_id: agentId,
        interval: 3600,
        run_immediately: true,
        // Each holds its request for a moment: the runs are in flight together.
        model_config: { provider: 'scripted', script: [{ answer: 'ok', delay: 0.5 }] },
        task_config: { query: 'q', max_retries: 0 },
      });
      await control.startAgent(agentId);
    }
    const environment = {
      NIGHTSHIFT_TEST_URL: backend.url,
      NIGHTSHIFT_TEST_MEMORY: backend.memory,
      NIGHTSHIFT_TEST_EVENTS: backend.events,
      NIGHTSHIFT_TEST_NAMESPACE: namespace,
      NIGHTSHIFT_TEST_BUDGETS: JSON.stringify(burst),
      // 200 runs in flight in each process on a busy machine: a lease long enough that no run
      // is taken over for a late renewal (recovery is not what this race is about).
      NIGHTSHIFT_TEST_LEASE_TTL_MS: '15000',
    };
    const managers: ManagerProcess[] = await Promise.all([
      startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'burst-1' }),
      startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'burst-2' }),
    ]);
    cleanups.push(async () => Promise.all(managers.map((manager) => manager.stop())));
    // Every agent has a run that ran, and none is unfinished. (Each process starts an agent's
    // first tick at its own start: the later one's, if it differs, is skipped for overlap; the
    // same tick fired by both is claimed once, never skipped for overlap with itself.)
    const runs = await waitFor(
      async () => {
        const all = [];
        for (let index = 0; index < BURST_RUNS; index += 1) {
          const agentRuns = await control.listRuns(`burst_${index}`, { limit: 10 });
          if (agentRuns.some((run) => !run.ended_at)) return undefined;
          const ran = agentRuns.filter((run) => run.status !== 'skipped');
          if (ran.length === 0) return undefined;
          all.push(...ran);
        }
        return all;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'every run of the burst to end' },
    );
    expect(await Promise.all(managers.map((manager) => manager.stop()))).toEqual([0, 0]);
    const requests = runs.reduce((sum, run) => sum + run.usage.requests, 0);
    const completed = runs.filter((run) => run.status === 'completed');
    const [spent] = (await control.listBudgets()).filter((entry) => entry.scope === 'fleet');
    const byStatus = runs.reduce<Record<string, number>>(
      (counts, run) => ({ ...counts, [run.status]: (counts[run.status] ?? 0) + 1 }),
      {},
    );
    const said = `runs by status ${JSON.stringify(byStatus)}, the fleet's counter ${JSON.stringify(spent?.spent)}`;
    expect(requests, said).toBe(BURST_REQUESTS);
    expect(completed, said).toHaveLength(BURST_REQUESTS);
    for (const run of runs.filter((entry) => entry.status !== 'completed'))
      expect(run).toMatchObject({
        status: 'budget_exceeded',
        error: { code: 'budget.fleet.per_day.requests' },
      });
    // Both processes raced for the claims (which one wins how many varies from run to run).
    const workers = new Set(runs.map((run) => run.attempts[0]?.worker_id));
    expect([...workers].every((id) => id === 'burst-1' || id === 'burst-2')).toBe(true);
    const [after] = (await control.listBudgets()).filter((entry) => entry.scope === 'fleet');
    expect(after).toMatchObject({ spent: { requests: BURST_REQUESTS }, held: { requests: 0 } });
  }, 120_000);
});
