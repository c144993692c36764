import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type RunRecord, type Store } from '../../src/storage/index.js';
import {
  createWorkspace,
  killLeftoverProcesses,
  REPOSITORY,
  startCli,
  waitFor,
  type Workspace,
} from './cli-process.js';
import { runInProcess, startInProcess } from './in-process.js';

/** Every example file, relative to the repository. */
const EXAMPLES = ['examples', 'examples/offline'].flatMap((directory) =>
  readdirSync(join(REPOSITORY, directory))
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => `${directory}/${name}`),
);

/** Stand-ins for what the online examples read from the environment; nothing is contacted. */
const DUMMY_ENVIRONMENT = {
  OPENAI_API_KEY: 'sk-dummy-for-validate',
  DATABASE_URL: 'postgres://archiver:dummy@db.invalid:5432/app',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/dummy',
};

/**
 * An example's text with its `./.nightshift/` paths moved into a workspace, so it runs in this
 * process (whose working directory is the repository) without writing into the repository.
 */
function relocated(space: Workspace, example: string): string {
  const text = readFileSync(join(REPOSITORY, example), 'utf8');
  return space.writeFile(
    example.replace(/\//g, '-'),
    text.replaceAll('./.nightshift/', `${space.directory}/.nightshift/`),
  );
}

describe('the examples', () => {
  const workspaces: Workspace[] = [];
  const stores: Store[] = [];

  function workspace(): Workspace {
    const created = createWorkspace();
    workspaces.push(created);
    return created;
  }

  afterEach(async () => {
    killLeftoverProcesses();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const space of workspaces.splice(0)) space.remove();
  });

  it('has the three use cases online and offline, besides the monitors', () => {
    expect(EXAMPLES.sort()).toEqual([
      'examples/db-archival.yaml',
      'examples/health-check.yaml',
      'examples/news-digest.yaml',
      'examples/offline-monitor.yaml',
      'examples/offline/db-archival.yaml',
      'examples/offline/health-check.yaml',
      'examples/offline/news-digest.yaml',
      'examples/system-monitor.yaml',
    ]);
  });

  it.each(EXAMPLES)('%s opens with a comment and passes validate', async (example) => {
    expect(readFileSync(join(REPOSITORY, example), 'utf8')).toMatch(/^# \S/);
    const { code, stdout, stderr } = await runInProcess(['validate', example], DUMMY_ENVIRONMENT);
    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    expect(stdout[0]).toBe(`${example} is valid: 1 agent`);
  });

  it('serves the quick start on 127.0.0.1:7420 without a token', async () => {
    const { stdout } = await runInProcess(['validate', 'examples/offline-monitor.yaml']);
    expect(stdout).toContain('http: http://127.0.0.1:7420 (no token: loopback only)');
  });

  it('runs the offline health check end to end, and serve answers for its store', async () => {
    const space = workspace();
    // A fresh directory, as on a fresh clone: the example's relative paths land in it.
    const cwd = { cwd: space.directory };
    const example = join(REPOSITORY, 'examples/offline/health-check.yaml');
    const runner = startCli(['run', example, '--port', '0'], { NIGHTSHIFT_TOKEN: '' }, cwd);
    await runner.waitForLine(/ health_check completed in \d+ ms/, 15_000);
    const store = createSqliteStore({
      path: join(space.directory, '.nightshift/offline-health-check.db'),
    });
    stores.push(store);
    const [run] = await waitFor(async () => {
      const runs = await store.runs.list('health_check', { status: 'completed' });
      return runs.length > 0 ? runs : undefined;
    }, 'a completed run in the store');
    expect(run?.output).toMatch(/^Memory \d+(\.\d+)?% used, disk \d+(\.\d+)?% used\. Services: \[/);
    expect(run?.output).toContain('"target":"127.0.0.1:9","up":false');
    expect(
      readFileSync(join(space.directory, '.nightshift/reports/health-check.log'), 'utf8'),
    ).toMatch(/^health check ran/);

    // serve, here in this process, over the store the other process runs (relocated: this
    // process's working directory is the repository).
    const server = startInProcess([
      'serve',
      relocated(space, 'examples/offline/health-check.yaml'),
      '--port',
      '0',
    ]);
    const served = await server.waitForLine(/^http: /);
    const url = /^http: (\S+) \(no token: loopback only\)$/.exec(served)?.[1] ?? '';
    expect(server.stdout[0]).toContain('no agents run in this process');
    const runs = (await (await fetch(`${url}/api/agents/health_check/runs`)).json()) as {
      runs: RunRecord[];
    };
    expect(runs.runs.map((record) => record.run_id)).toContain(run?.run_id);
    const refused = await fetch(`${url}/api/agents/health_check/run`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /runs no agents/,
    );
    server.stop('SIGINT');
    expect(await server.exited).toBe(0);
    expect(server.stdout.slice(-2)).toEqual(['SIGINT: shutting down', 'nightshift: stopped']);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    runner.child.kill('SIGTERM');
    expect(await runner.exited()).toBe(0);
    expect(await store.runs.listUnfinished()).toEqual([]);
  });

  it('archives the seeded rows offline, seeded by the command its header gives', async () => {
    const space = workspace();
    const example = 'examples/offline/db-archival.yaml';
    const header = readFileSync(join(REPOSITORY, example), 'utf8');
    const seed = /^# {3}(mkdir -p \.nightshift && node -e .*)$/m.exec(header)?.[1];
    expect(seed).toBeDefined();
    // The command as documented, in a fresh directory; only where it finds the repository differs.
    execFileSync('sh', ['-c', (seed ?? '').replace('examples/', `${REPOSITORY}/examples/`)], {
      cwd: space.directory,
      env: { ...process.env, NODE_PATH: join(REPOSITORY, 'node_modules') },
    });
    const file = relocated(space, example);
    const runner = startInProcess(['run', file]);
    await runner.waitForLine(/ db_archival completed in /);
    runner.stop();
    expect(await runner.exited).toBe(0);
    const { stdout } = await runInProcess(['runs', 'db_archival', '--file', file, '--json']);
    const [run] = JSON.parse(stdout.join('\n')) as RunRecord[];
    expect(run?.output).toBe(
      'Moved 240 rows into events_archive in 3 batches (complete: true); events now holds 360 rows, events_archive 240.',
    );
  });

  it('writes the placeholder digest offline', async () => {
    const space = workspace();
    const file = relocated(space, 'examples/offline/news-digest.yaml');
    const runner = startInProcess(['run', file]);
    await runner.waitForLine(/ news_digest completed in /);
    runner.stop();
    expect(await runner.exited).toBe(0);
    const digest = join(space.directory, '.nightshift/digests/news-digest.md');
    expect(existsSync(digest)).toBe(true);
    expect(readFileSync(digest, 'utf8')).toMatch(/^# News digest \(offline placeholder\)/);
  });
});
