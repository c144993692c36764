/**
 * A person grants more: a grant raises one window of one budget until it resets, is kept in the
 * ledger, and reaches every process on the store.
 */
import { describe, expect, it } from 'vitest';
import {
  NightshiftError,
  type BackgroundAgentService,
  type NightshiftEvent,
} from '../../src/index.js';
import { createSqliteStore } from '../../src/storage/index.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  collectEvents,
  makeService,
  onCleanup,
  scriptedAgent,
  temporaryDatabase,
} from './service-fixtures.js';

/** A scripted agent whose run makes two model requests (a tool call, then the answer). */
function twoStepAgent(agentId: string, overrides: Record<string, unknown> = {}) {
  return scriptedAgent(agentId, {
    model_config: {
      provider: 'scripted',
      script: [{ tool: 'system_stats' }, { answer: `${agentId} done` }],
    },
    tools: ['system_stats'],
    budget_config: { per_day: { requests: 3 } },
    ...overrides,
  });
}

/** The NightshiftError a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<NightshiftError> {
  const error: unknown = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
  if (!NightshiftError.isInstance(error)) throw error;
  return error;
}

async function run(service: BackgroundAgentService, agentId: string) {
  return service.runNow(agentId, { wait: true });
}

/** The `budget_granted` events among `events`. */
function grantedEvents(events: readonly NightshiftEvent[]): NightshiftEvent<'budget_granted'>[] {
  return events.filter(
    (event): event is NightshiftEvent<'budget_granted'> => event.type === 'budget_granted',
  );
}

/** A store of its own on the service's SQLite file: reads what is stored, expiring nothing. */
function storeOn(url: string) {
  const store = createSqliteStore({ path: url.slice('sqlite:'.length), sharedConnection: false });
  onCleanup(() => store.close());
  return store;
}

describe('budget grants', () => {
  it('raises a spent day for the agent, across processes, and keeps who, when, how much and why', async () => {
    const url = temporaryDatabase();
    const runner = makeService({ url });
    await runner.startManager();
    // Another process on the same store: the one a person grants from.
    const desk = makeService({ url });
    await runner.create(twoStepAgent('archiver'));
    expect((await run(runner, 'archiver')).status).toBe('completed');
    const refused = await run(runner, 'archiver');
    expect(refused.error?.code).toBe('budget.agent.per_day.requests');

    const { grant, budget } = await desk.grantBudget({
      scope: { agent_id: 'archiver' },
      window: 'per_day',
      requests: 2,
      by: 'ana',
      note: 'quarter-end archive',
    });
    expect(grant).toMatchObject({
      scope: 'agent',
      name: 'archiver',
      window: 'per_day',
      requests: 2,
      usd: 0,
      by: 'ana',
      note: 'quarter-end archive',
    });
    expect(budget).toMatchObject({
      scope: 'agent',
      name: 'archiver',
      limits: { requests: 3 },
      spent: { requests: 3 },
      held: { requests: 0 },
      granted: { requests: 2 },
    });
    expect((await run(runner, 'archiver')).status).toBe('completed');
    const [after] = await runner.listBudgets();
    expect(after).toMatchObject({ spent: { requests: 5 }, granted: { requests: 2 } });
    expect(await runner.listBudgetGrants()).toEqual([grant]);
  });

  it('grants a tag or the fleet, and lists every budget with its window', async () => {
    const service = makeService({
      url: temporaryDatabase(),
      budgets: {
        fleet: { per_month: { requests: 100 } },
        tags: { nightly: { per_day: { requests: 10 } } },
      },
    });
    await service.create(twoStepAgent('a', { tags: ['nightly'] }));
    const budgets = await service.listBudgets();
    expect(budgets.map((entry) => [entry.scope, entry.name, entry.window])).toEqual([
      ['agent', 'a', 'per_day'],
      ['tag', 'nightly', 'per_day'],
      ['fleet', null, 'per_month'],
    ]);
    const tag = await service.grantBudget({
      scope: { tag: 'nightly' },
      window: 'per_day',
      requests: 5,
      by: 'ops',
      note: 'backfill',
    });
    expect(tag.budget).toMatchObject({ granted: { requests: 5 }, limits: { requests: 10 } });
    const fleet = await service.grantBudget({
      scope: { fleet: true },
      window: 'per_month',
      requests: 50,
      by: 'ops',
      note: 'launch',
    });
    expect(fleet.grant.budget).toMatch(/^fleet:per_month:\d{4}-\d{2}$/);
    expect((await service.listBudgetGrants()).map((entry) => entry.scope)).toEqual([
      'fleet',
      'tag',
    ]);
  });

  it('refuses a bad grant naming the field, an unknown agent, and a window the scope has no budget for, granting nothing', async () => {
    const service = makeService({ url: temporaryDatabase() });
    await service.create(twoStepAgent('a'));
    const bad = await rejection(
      service.grantBudget({ scope: { team: 'x' }, window: 'per_week', usd: -1, by: '', note: 'n' }),
    );
    expect(bad.code).toBe('config_invalid');
    expect(bad.fields.map((field) => field.path).sort()).toEqual(['by', 'scope', 'usd', 'window']);
    const none = await rejection(
      service.grantBudget({ scope: { agent_id: 'a' }, window: 'per_day', by: 'x', note: 'y' }),
    );
    expect(none.fields.map((field) => field.path)).toEqual(['usd']);
    const uncapped = await rejection(
      service.grantBudget({
        scope: { agent_id: 'a' },
        window: 'per_day',
        requests: 1,
        usd: 1,
        by: 'x',
        note: 'y',
      }),
    );
    expect(uncapped.fields).toEqual([
      { path: 'usd', message: 'this budget does not cap usd (it caps requests)' },
    ]);
    const unknown = await rejection(
      service.grantBudget({
        scope: { agent_id: 'ghost' },
        window: 'per_day',
        requests: 1,
        by: 'x',
        note: 'y',
      }),
    );
    expect(unknown.code).toBe('agent_not_found');
    const monthless = await rejection(
      service.grantBudget({
        scope: { agent_id: 'a' },
        window: 'per_month',
        requests: 1,
        by: 'x',
        note: 'y',
      }),
    );
    expect(monthless.code).toBe('invalid_state');
    expect(monthless).toHaveProperty('message', expect.stringMatching(/budget_config\.per_month/));
    const fleetless = await rejection(
      service.grantBudget({
        scope: { fleet: true },
        window: 'per_day',
        requests: 1,
        by: 'x',
        note: 'y',
      }),
    );
    expect(fleetless.code).toBe('invalid_state');
    expect(await service.listBudgetGrants()).toEqual([]);
    expect((await service.listBudgets())[0]?.granted).toEqual({
      usd: 0,
      tokens: 0,
      requests: 0,
      tool_calls: 0,
    });
  });

  it('raises the limit until expires_at: once the clock passes it and a sweep runs, the limit is back and spent stays spent', async () => {
    const url = temporaryDatabase();
    let now = new Date('2026-12-03T10:00:00.000Z');
    const service = makeService({ url, now: () => now });
    await service.startManager();
    await service.create(twoStepAgent('archiver'));
    expect((await run(service, 'archiver')).status).toBe('completed');
    expect((await run(service, 'archiver')).error?.code).toBe('budget.agent.per_day.requests');

    const expiresAt = '2026-12-03T12:00:00+01:00';
    const { grant, budget } = await service.grantBudget({
      scope: { agent_id: 'archiver' },
      window: 'per_day',
      requests: 4,
      by: 'ana',
      note: 'the next hour only',
      expires_at: expiresAt,
    });
    expect(grant).toMatchObject({
      budget: 'agent:archiver:per_day:2026-12-03',
      expires_at: '2026-12-03T11:00:00.000Z',
      expired_at: null,
      resets_at: '2026-12-04T00:00:00.000Z',
    });
    expect(budget).toMatchObject({ spent: { requests: 3 }, granted: { requests: 4 } });
    // 3 + 4: room for one more run of two requests while the grant counts.
    now = new Date('2026-12-03T10:30:00.000Z');
    expect((await run(service, 'archiver')).status).toBe('completed');

    // Past expires_at: the listing sweeps first; the grant no longer counts, what it paid for does.
    now = new Date('2026-12-03T11:00:00.000Z');
    const [after] = await service.listBudgets();
    expect(after).toMatchObject({ spent: { requests: 5 }, granted: { requests: 0 } });
    const refused = await run(service, 'archiver');
    expect(refused.error?.code).toBe('budget.agent.per_day.requests');
    expect(await service.listBudgetGrants()).toEqual([
      { ...grant, expired_at: '2026-12-03T11:00:00.000Z' },
    ]);
    expect((await service.listBudgets())[0]).toMatchObject({ spent: { requests: 5 } });
  });

  it("expires grants in the manager's periodic sync, with nobody listing", async () => {
    const url = temporaryDatabase();
    let now = new Date('2026-12-03T10:00:00.000Z');
    const manager = makeService({ url, now: () => now, syncIntervalMs: 20 });
    await manager.startManager();
    await manager.create(twoStepAgent('archiver'));
    const { grant } = await manager.grantBudget({
      scope: { agent_id: 'archiver' },
      window: 'per_day',
      requests: 2,
      by: 'ana',
      note: 'until noon',
      expires_at: '2026-12-03T12:00:00Z',
    });
    const reader = storeOn(url);
    const granted = async () =>
      (await reader.budgets.counters([grant.budget]))[0]!.granted.requests;
    expect(await granted()).toBe(2);
    now = new Date('2026-12-03T12:00:01.000Z');
    await waitFor(async () => (await granted()) === 0, { what: 'the sync to expire the grant' });
    const [stored] = await reader.budgets.listGrants();
    expect(stored).toMatchObject({
      grant_id: grant.grant_id,
      expired_at: expect.stringMatching(/^2026-12-03T12:00:/),
    });
  });

  it('announces each grant as budget_granted, after the ledger has it', async () => {
    const service = makeService({
      url: temporaryDatabase(),
      budgets: {
        fleet: { per_month: { usd: 100 } },
        tags: { nightly: { per_day: { requests: 10 } } },
      },
    });
    const events = collectEvents(service);
    await service.create(twoStepAgent('a', { tags: ['nightly'] }));
    const agent = await service.grantBudget({
      scope: { agent_id: 'a' },
      window: 'per_day',
      requests: 1,
      by: 'ana',
      note: 'one more',
      expires_at: '2999-01-01T00:00:00Z',
    });
    const tag = await service.grantBudget({
      scope: { tag: 'nightly' },
      window: 'per_day',
      requests: 2,
      by: 'ops',
      note: 'backfill',
    });
    const fleet = await service.grantBudget({
      scope: { fleet: true },
      window: 'per_month',
      usd: 2.5,
      by: 'ops',
      note: 'launch',
    });
    await waitFor(() => grantedEvents(events).length === 3);
    const heard = grantedEvents(events);
    expect(heard.map((event) => [event.agent_id, event.run_id])).toEqual([
      ['a', null],
      ['tag:nightly', null],
      ['fleet:all', null],
    ]);
    expect(heard[0]!.payload).toEqual({
      grant_id: agent.grant.grant_id,
      budget: agent.grant.budget,
      scope: 'agent',
      name: 'a',
      window: 'per_day',
      usd: 0,
      tokens: 0,
      requests: 1,
      tool_calls: 0,
      by: 'ana',
      note: 'one more',
      expires_at: '2999-01-01T00:00:00.000Z',
      resets_at: agent.grant.resets_at,
    });
    expect(heard[1]!.payload).toMatchObject({
      grant_id: tag.grant.grant_id,
      scope: 'tag',
      name: 'nightly',
      requests: 2,
      expires_at: null,
    });
    expect(heard[2]!.payload).toMatchObject({
      grant_id: fleet.grant.grant_id,
      scope: 'fleet',
      name: null,
      window: 'per_month',
      usd: 2.5,
    });
    // In the stored log too, and in no agent's own events but the agent's grant.
    const stored = await service.readEvents({ after: '0' });
    expect(grantedEvents(stored).map((event) => event.payload.grant_id)).toEqual([
      agent.grant.grant_id,
      tag.grant.grant_id,
      fleet.grant.grant_id,
    ]);
    const own = await service.readEvents({ agent_id: 'a', after: '0' });
    expect(grantedEvents(own).map((event) => event.payload.grant_id)).toEqual([
      agent.grant.grant_id,
    ]);
  });

  it('refuses an expires_at that is not an ISO instant or not in the future, naming it, storing and announcing nothing', async () => {
    const now = new Date('2026-12-03T10:00:00.000Z');
    const service = makeService({ url: temporaryDatabase(), now: () => now });
    const events = collectEvents(service);
    await service.create(twoStepAgent('a'));
    const grant = (expires_at: unknown) =>
      rejection(
        service.grantBudget({
          scope: { agent_id: 'a' },
          window: 'per_day',
          requests: 1,
          by: 'x',
          note: 'y',
          expires_at,
        }),
      );
    for (const bad of ['tomorrow', '2026-12-03T12:00:00', '2026-12-03', 1_800_000_000_000, null]) {
      const error = await grant(bad);
      expect(error.code, String(bad)).toBe('config_invalid');
      expect(error.fields, String(bad)).toEqual([
        { path: 'expires_at', message: expect.stringMatching(/ISO 8601 instant/) },
      ]);
    }
    for (const past of [
      '2026-12-03T10:00:00Z',
      '2026-12-03T09:59:59.999Z',
      '2020-01-01T00:00:00Z',
    ]) {
      const error = await grant(past);
      expect(error.code, past).toBe('config_invalid');
      expect(error.fields, past).toEqual([
        {
          path: 'expires_at',
          message: 'must be in the future (it is 2026-12-03T10:00:00.000Z now)',
        },
      ]);
    }
    expect(await service.listBudgetGrants()).toEqual([]);
    expect((await service.listBudgets())[0]?.granted.requests).toBe(0);
    // A good grant after them: its event is the only one.
    await service.grantBudget({
      scope: { agent_id: 'a' },
      window: 'per_day',
      requests: 1,
      by: 'x',
      note: 'y',
      expires_at: '2026-12-03T10:00:00.001Z',
    });
    await waitFor(() => grantedEvents(events).length === 1);
    const stored = await service.readEvents({ after: '0' });
    expect(grantedEvents(stored)).toHaveLength(1);
  });
});
