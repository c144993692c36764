import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/index.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import {
  createSqliteEventLog,
  createSqliteStore,
  EventRouter,
  MemoryRouter,
} from '../../src/storage/index.js';
import { agentDefinition, agentRecord, minute, runRecord } from '../storage/contracts/fixtures.js';
import { createWorkspace, nightshiftFile, type Workspace } from './cli-process.js';
import { runInProcess } from './in-process.js';

/** The cells of a table line (columns are two or more spaces apart). */
const cells = (line: string | undefined) => (line ?? '').trim().split(/\s{2,}/);

/** Seeds the workspace's store with 2024's history: ended and unfinished runs, events, messages. */
async function seed(space: Workspace): Promise<void> {
  const store = createSqliteStore({ path: space.databasePath });
  // Watcher's own retention keeps its runs a century, over the file's 30 days.
  const watcher = { ...agentDefinition('watcher'), retention: { runs_days: 36_500 } };
  await store.agents.insert(agentRecord('archiver'));
  await store.agents.insert(agentRecord('watcher', { definition: watcher }));
  for (const agentId of ['archiver', 'watcher']) {
    for (let index = 0; index < 3; index += 1) {
      await store.runs.claim(
        runRecord(agentId, minute(index), {
          status: 'completed',
          started_at: minute(index),
          ended_at: minute(index + 1),
        }),
      );
    }
  }
  await store.runs.claim(runRecord('archiver', minute(9), { status: 'running' }));
  await store.messages.append(
    'archiver',
    Array.from({ length: 8 }, (_, index) => ({ role: 'user', content: `m${index}` })),
  );
  await store.close();
  const log = createSqliteEventLog({ path: space.databasePath });
  for (let index = 0; index < 5; index += 1) {
    await log.append({
      type: 'agent_message',
      agent_id: 'archiver',
      run_id: null,
      timestamp: minute(index),
      payload: { message: `e${index}` },
    });
  }
  await log.close();
}

/** How many runs of `agentId` the store holds. */
async function runCount(space: Workspace, agentId: string): Promise<number> {
  const store = createSqliteStore({ path: space.databasePath });
  try {
    return (await store.runs.list(agentId, { limit: 100 })).length;
  } finally {
    await store.close();
  }
}

describe('nightshift prune', () => {
  let space: Workspace;
  let file: string;

  beforeEach(async () => {
    space = createWorkspace();
    await seed(space);
    // The fleet keeps runs and events 30 days, and 3 messages a session.
    file = space.writeFile('nightshift.yaml', {
      ...nightshiftFile(space, []),
      retention: { runs_days: 30, events_days: 30, messages_per_session: 3 },
    });
  });
  afterEach(() => space.remove());

  it('shows what would be removed per agent and kind with --dry-run, and removes it without', async () => {
    const dryRun = await runInProcess(['prune', '--dry-run', file]);
    expect(dryRun.stderr).toEqual([]);
    expect(dryRun.code).toBe(0);
    expect(cells(dryRun.stdout[0])).toEqual(['AGENT', 'RUNS', 'EVENTS', 'MESSAGES']);
    expect(cells(dryRun.stdout[1])).toEqual(['archiver', '3', '5', '5']);
    expect(dryRun.stdout).toHaveLength(3);
    expect(dryRun.stdout.at(-1)).toBe(
      'would remove 3 runs, 5 events, 5 messages (dry run: nothing removed)',
    );
    expect(await runCount(space, 'archiver')).toBe(4);

    const json = await runInProcess(['prune', '--dry-run', '--json', file]);
    expect(JSON.parse(json.stdout.join('\n'))).toMatchObject({
      dry_run: true,
      totals: { runs: 3, events: 5, messages: 5 },
    });

    const pruned = await runInProcess(['prune', file]);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout.at(-1)).toBe('removed 3 runs, 5 events, 5 messages');
    // The running run stays, and so do watcher's runs.
    expect(await runCount(space, 'archiver')).toBe(1);
    expect(await runCount(space, 'watcher')).toBe(3);
    const again = await runInProcess(['prune', '--dry-run', file]);
    expect(again.stdout).toEqual([
      'would remove 0 runs, 0 events, 0 messages (dry run: nothing removed)',
    ]);
  });

  it('prunes through a server with --url, by the server’s retention', async () => {
    const service = new BackgroundAgentService(
      new MemoryRouter('database', { url: space.databaseUrl }),
      new EventRouter('database', { url: space.databaseUrl }),
      { env: {}, retention: { runs_days: 30 } },
    );
    const server = await startServer(service, { port: 0, token: 'prune-token-7c2d' });
    try {
      const argv = ['prune', '--dry-run', '--url', server.url, '--token', 'prune-token-7c2d'];
      const dryRun = await runInProcess(argv);
      expect(dryRun.stderr).toEqual([]);
      expect(dryRun.stdout.at(-1)).toBe(
        'would remove 3 runs, 0 events, 0 messages (dry run: nothing removed)',
      );
      const pruned = await runInProcess(argv.filter((argument) => argument !== '--dry-run'));
      expect(pruned.stdout.at(-1)).toBe('removed 3 runs, 0 events, 0 messages');
      expect(await runCount(space, 'archiver')).toBe(1);
      expect(await runCount(space, 'watcher')).toBe(3);
    } finally {
      await server.close();
      await service.shutdown();
    }
  });

  it('refuses a bad retention: block naming the field, and a missing target', async () => {
    const bad = space.writeFile('bad.yaml', {
      ...nightshiftFile(space, []),
      retention: { runs_days: 0, messages_per_sesion: 3 },
    });
    const refused = await runInProcess(['prune', '--dry-run', bad]);
    expect(refused.code).not.toBe(0);
    const text = refused.stderr.join('\n');
    expect(text).toContain('retention.runs_days');
    expect(text).toContain('retention.messages_per_sesion');
    const nowhere = await runInProcess(['prune']);
    expect(nowhere.code).not.toBe(0);
    expect(nowhere.stderr.join('\n')).toContain('prune needs a Nightshift file');
  });
});
