/**
 * A person grants more: a grant raises one window of one budget until it resets, is kept in the
 * ledger, and reaches every process on the store.
 */
import { describe, expect, it } from 'vitest';
import { NightshiftError, type BackgroundAgentService } from '../../src/index.js';
import { makeService, scriptedAgent, temporaryDatabase } from './service-fixtures.js';

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
});
