import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackgroundAgentService } from '../../src/service/index.js';
import { EventRouter, MemoryRouter } from '../../src/storage/index.js';
import { createWorkspace, nightshiftFile, scriptedAgent, type Workspace } from './cli-process.js';
import { runInProcess } from './in-process.js';

/** The column of each header in a table's first line, to check that rows line up under it. */
function columnStarts(header: string, names: readonly string[]): number[] {
  return names.map((name) => header.indexOf(name));
}

describe('nightshift agents and nightshift runs', () => {
  let space: Workspace;
  let file: string;

  beforeAll(async () => {
    space = createWorkspace();
    file = space.writeFile('nightshift.yaml', nightshiftFile(space, []));
    // A store with history, made through the API in this process: two good runs and a failed one.
    const service = new BackgroundAgentService(
      new MemoryRouter('database', { url: space.databaseUrl }),
      new EventRouter('database', { url: space.databaseUrl }),
    );
    await service.startManager();
    await service.createFromUntyped(scriptedAgent('system_monitor', { interval: 3600 }));
    await service.createFromUntyped(
      scriptedAgent('flaky', {
        interval: 3600,
        model_config: { provider: 'scripted', script: [{ fail: 'upstream said no' }] },
        tools: [],
      }),
    );
    await service.startAgent('system_monitor');
    await service.runNow('system_monitor', { wait: true });
    await service.runNow('system_monitor', { wait: true });
    await service.runNow('flaky', { wait: true });
    await service.shutdown();
  });

  afterAll(() => space.remove());

  it('lists the agents of a store as an aligned table', async () => {
    const { code, stdout, stderr } = await runInProcess(['agents', '--memory', space.databaseUrl]);
    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    const [header = '', ...rows] = stdout;
    const names = [
      'AGENT',
      'STATE',
      'RUNS',
      'ERRORS',
      'SKIPS',
      'MISSED',
      'LAST STATUS',
      'NEXT RUN',
      'TOKENS',
      'COST TODAY',
      'THIS MONTH',
    ];
    expect(header.split(/\s{2,}/)).toEqual(names);
    expect(rows).toHaveLength(2);
    const [flaky = '', monitor = ''] = rows;
    expect(flaky.split(/\s+/)).toEqual([
      'flaky',
      'created',
      '1',
      '1',
      '0',
      '0',
      'failed',
      '-',
      '0',
      // Scripted models are free: no spend.
      '$0.00',
      '$0.00',
    ]);
    const monitorCells = monitor.split(/\s+/);
    expect(monitorCells.slice(0, 7)).toEqual([
      'system_monitor',
      'active',
      '2',
      '0',
      '0',
      '0',
      'completed',
    ]);
    expect(monitorCells[7]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(monitorCells[8])).toBeGreaterThan(0);
    const starts = columnStarts(header, ['STATE', 'LAST STATUS']);
    expect(monitor.indexOf('active')).toBe(starts[0]);
    expect(monitor.indexOf('completed')).toBe(starts[1]);
  });

  it("lists an agent's runs, newest first, with --limit and --status", async () => {
    const [all, limited, failed, none] = await Promise.all([
      runInProcess(['runs', 'system_monitor', '--memory', space.databaseUrl]),
      runInProcess(['runs', 'system_monitor', '--file', file, '--limit', '1']),
      runInProcess(['runs', 'flaky', '--memory', space.databaseUrl, '--status', 'failed']),
      runInProcess(['runs', 'system_monitor', '--memory', space.databaseUrl, '--status', 'failed']),
    ]);
    expect(all.code).toBe(0);
    const [header = '', ...rows] = all.stdout;
    expect(header.split(/\s{2,}/)).toEqual([
      'RUN ID',
      'TRIGGER',
      'SCHEDULED',
      'STATUS',
      'DURATION',
      'TOKENS',
      'ERROR',
    ]);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatch(/^system_monitor\.manual-\S+ +manual +\S+Z +completed +\d+ ms +\d+$/);
    }
    expect(limited.code).toBe(0);
    expect(limited.stdout).toHaveLength(2);
    expect(limited.stdout[1]).toBe(rows[0]);
    expect(failed.code).toBe(0);
    expect(failed.stdout[1]).toMatch(/ failed +\d+ ms +0 +model_error: upstream said no$/);
    expect(none.stdout).toEqual(['no failed runs of system_monitor']);
  });

  it('says so when the agent or the store does not exist, and exits 1', async () => {
    const [unknownAgent, unknownStore, both] = await Promise.all([
      runInProcess(['runs', 'ghost', '--memory', space.databaseUrl]),
      runInProcess(['agents', '--memory', `sqlite://${space.directory}/absent.db`]),
      runInProcess(['agents', '--memory', space.databaseUrl, '--file', file]),
    ]);
    expect(unknownAgent.code).toBe(1);
    expect(unknownAgent.stderr).toEqual([
      `error: no agent named "ghost" in sqlite:${space.databasePath} (agents: flaky, system_monitor)`,
    ]);
    expect(unknownStore.code).toBe(1);
    expect(unknownStore.stderr[0]).toMatch(/^error: no Nightshift store at .*absent\.db/);
    expect(both.code).toBe(1);
    expect(both.stderr).toEqual(['error: use either --memory or --file, not both']);
  });

  it('prints JSON on request', async () => {
    const { code, stdout } = await runInProcess(['agents', '--file', file, '--json']);
    expect(code).toBe(0);
    const agents = JSON.parse(stdout.join('\n')) as { agent_id: string; run_count: number }[];
    expect(agents.map((agent) => [agent.agent_id, agent.run_count])).toEqual([
      ['flaky', 1],
      ['system_monitor', 2],
    ]);
  });
});
