import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
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

/** A port nothing listens on now, for a server a test starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The `node -e "…"` helper an example's header documents (its first such line). */
function documentedHelper(example: string): string {
  const header = readFileSync(join(REPOSITORY, example), 'utf8');
  const command = /^# {3}(node -e .*)$/m.exec(header)?.[1];
  if (command === undefined) throw new Error(`${example} documents no node -e helper`);
  return command;
}

/** A helper process a test started, its output as it comes, until it is killed. */
interface Helper {
  child: ChildProcess;
  stdout: string[];
}

/**
 * Starts a documented helper with `sh -c`, as a user pastes it, and resolves once `port`
 * accepts connections.
 */
async function startHelper(command: string, cwd: string, port: number): Promise<Helper> {
  const child = spawn('sh', ['-c', `exec ${command}`], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => stdout.push(...chunk.split('\n').filter(Boolean)));
  // A connection, not a request: a receiver takes every request for an alert.
  await waitFor(
    () =>
      new Promise<true | undefined>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(undefined));
      }),
    `the helper on port ${port}`,
  );
  return { child, stdout };
}

/** The feed's entries as the digest should list them: newest first, as written. */
function feedEntries(
  xml: string,
): { title: string; link: string; published: string; summary: string }[] {
  return [...xml.matchAll(/<entry>([\s\S]*?)<\/entry>/g)]
    .map(([, entry = '']) => ({
      title: /<title>(.*?)<\/title>/.exec(entry)?.[1] ?? '',
      link: /<link href="(.*?)"/.exec(entry)?.[1] ?? '',
      published: new Date(/<published>(.*?)<\/published>/.exec(entry)?.[1] ?? '').toISOString(),
      summary: /<summary>(.*?)<\/summary>/.exec(entry)?.[1] ?? '',
    }))
    .sort((a, b) => (a.published < b.published ? 1 : -1));
}

describe('the examples', () => {
  const workspaces: Workspace[] = [];
  const stores: Store[] = [];
  const helpers: Helper[] = [];

  function workspace(): Workspace {
    const created = createWorkspace();
    workspaces.push(created);
    return created;
  }

  afterEach(async () => {
    killLeftoverProcesses();
    for (const helper of helpers.splice(0)) helper.child.kill('SIGKILL');
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const space of workspaces.splice(0)) space.remove();
  });

  it('has the three use cases online and offline, besides the monitors', () => {
    expect(EXAMPLES.sort()).toEqual([
      'examples/db-archival.yaml',
      'examples/health-check.yaml',
      'examples/news-digest.yaml',
      'examples/offline-monitor.yaml',
      'examples/offline/approval.yaml',
      'examples/offline/db-archival.yaml',
      'examples/offline/health-check.yaml',
      'examples/offline/news-digest.yaml',
      'examples/offline/replay.yaml',
      'examples/offline/structured-answer.yaml',
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

  it('runs the offline health check end to end: its alert says which target is down; serve answers for its store', async () => {
    const space = workspace();
    const example = 'examples/offline/health-check.yaml';
    // The example's fixed ports moved to free ones; everything else as written.
    const [apiPort, receiverPort] = [await freePort(), await freePort()];
    const moved = (text: string) =>
      text.replaceAll('7421', String(apiPort)).replaceAll('7424', String(receiverPort));
    const receiver = await startHelper(
      moved(documentedHelper(example)),
      space.directory,
      receiverPort,
    );
    helpers.push(receiver);
    // A fresh directory, as on a fresh clone: the example's relative paths land in it.
    const file = space.writeFile(
      'health-check.yaml',
      moved(readFileSync(join(REPOSITORY, example), 'utf8')),
    );
    const runner = startCli(['run', file], { NIGHTSHIFT_TOKEN: '' }, { cwd: space.directory });
    await runner.waitForLine(/ health_check completed in \d+ ms/, 15_000);
    const alert = await waitFor(
      () => receiver.stdout.find((line) => line.includes('127.0.0.1:9 up: false')),
      'the alert at the receiver',
    );
    expect(alert).toBe(
      `http://127.0.0.1:${apiPort}/healthz up: true; 127.0.0.1:9 up: false (connecting to 127.0.0.1:9 failed: connect ECONNREFUSED 127.0.0.1:9)`,
    );
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
    expect(run?.output).toMatch(/Alert delivered: true\.$/);

    // serve, here in this process, over the store the other process runs (relocated: this
    // process's working directory is the repository).
    const served = space.writeFile(
      'served.yaml',
      moved(readFileSync(join(REPOSITORY, example), 'utf8')).replaceAll(
        './.nightshift/',
        `${space.directory}/.nightshift/`,
      ),
    );
    const server = startInProcess(['serve', served, '--port', '0']);
    const line = await server.waitForLine(/^http: /);
    const url = /^http: (\S+) \(no token: loopback only\)$/.exec(line)?.[1] ?? '';
    expect(server.stdout[0]).toContain('no agents run in this process');
    const runs = (await (await fetch(`${url}/api/agents/health_check/runs`)).json()) as {
      runs: RunRecord[];
    };
    expect(runs.runs.map((record) => record.run_id)).toContain(run?.run_id);
    // Asked to run the agent now, it says which process runs it.
    const refused = await runInProcess(['agents', 'run', 'health_check', '--url', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr[0]).toContain(
      `health_check last ran in pid ${runner.child.pid} on this machine, which is running`,
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

  it('digests the feed the offline example ships, served by the helper its header gives', async () => {
    const space = workspace();
    const example = 'examples/offline/news-digest.yaml';
    const port = await freePort();
    // The helper serves examples/offline/news-feed.xml of its working directory: a copy with one
    // item renamed, to see the digest follow the feed.
    const shipped = readFileSync(join(REPOSITORY, 'examples/offline/news-feed.xml'), 'utf8');
    const feed = shipped.replace(
      'Night trains return to the Alpine line',
      'Night trains return to the Alpine line, twice a week',
    );
    mkdirSync(join(space.directory, 'examples/offline'), { recursive: true });
    writeFileSync(join(space.directory, 'examples/offline/news-feed.xml'), feed);
    helpers.push(
      await startHelper(
        documentedHelper(example).replace('.listen(7423', `.listen(${port}`),
        space.directory,
        port,
      ),
    );
    const file = space.writeFile(
      'news-digest.yaml',
      readFileSync(relocated(space, example), 'utf8').replaceAll(':7423/', `:${port}/`),
    );
    const runner = startInProcess(['run', file]);
    await runner.waitForLine(/ news_digest completed in /);
    runner.stop();
    expect(await runner.exited).toBe(0);

    const [first, second, third] = feedEntries(feed);
    expect(first?.title).toBe('Night trains return to the Alpine line, twice a week');
    const digest = readFileSync(
      join(space.directory, '.nightshift/digests/news-digest.md'),
      'utf8',
    );
    expect(digest).toBe(
      [
        '# Nightshift Offline Newsroom',
        '',
        'The 3 newest of 5 items.',
        '',
        ...[first, second, third].flatMap((item) => [
          `- [${item?.title}](${item?.link}), ${item?.published}`,
          `  ${item?.summary}`,
        ]),
        '',
      ].join('\n'),
    );
    const { stdout } = await runInProcess(['runs', 'news_digest', '--file', file, '--json']);
    const [run] = JSON.parse(stdout.join('\n')) as RunRecord[];
    expect(run?.output).toBe(
      `Wrote ${Buffer.byteLength(digest)} bytes to news-digest.md: ${first?.title}; ${second?.title}; ${third?.title}.`,
    );
  });

  it('asks before writing the note, and writes it once approved through the server its header gives', async () => {
    const space = workspace();
    const port = await freePort();
    const file = space.writeFile(
      'approval.yaml',
      readFileSync(relocated(space, 'examples/offline/approval.yaml'), 'utf8').replace(
        'port: 7425',
        `port: ${port}`,
      ),
    );
    const runner = startInProcess(['run', file]);
    const waitingLine = await runner.waitForLine(/ note_writer awaiting_approval of file_write /);
    const approvalId = /approvals approve (\S+) /.exec(waitingLine)?.[1];
    expect(approvalId).toBeDefined();
    const url = `http://127.0.0.1:${port}`;
    const listed = await runInProcess(['approvals', '--url', url]);
    expect(listed.stdout[1]).toContain(approvalId);
    expect(existsSync(join(space.directory, '.nightshift/notes/hello.md'))).toBe(false);
    const approved = await runInProcess([
      'approvals',
      'approve',
      approvalId!,
      '--by',
      'you',
      '--url',
      url,
    ]);
    expect(approved.code).toBe(0);
    await runner.waitForLine(/ note_writer completed in /);
    runner.stop();
    expect(await runner.exited).toBe(0);
    expect(readFileSync(join(space.directory, '.nightshift/notes/hello.md'), 'utf8')).toBe(
      '# Hello\n\nWritten by note_writer, once a person said yes.\n',
    );
  });

  it('runs the offline replay end to end: a replay from the journal writes nothing and does not diverge', async () => {
    const space = workspace();
    const port = await freePort();
    const file = space.writeFile(
      'replay.yaml',
      readFileSync(relocated(space, 'examples/offline/replay.yaml'), 'utf8').replace(
        'port: 7426',
        `port: ${port}`,
      ),
    );
    const runner = startInProcess(['run', file]);
    await runner.waitForLine(/ memory_note completed in /);
    const note = join(space.directory, '.nightshift/replay-notes/memory.md');
    expect(readFileSync(note, 'utf8')).toMatch(/^Memory used: \d+(\.\d+)?%$/);
    const listed = await runInProcess(['runs', 'memory_note', '--file', file, '--json']);
    const [original] = JSON.parse(listed.stdout.join('\n')) as RunRecord[];
    rmSync(note);
    const url = `http://127.0.0.1:${port}`;

    const recorded = await runInProcess(['runs', 'replay', original!.run_id, '--url', url]);
    expect(recorded.code).toBe(0);
    expect(recorded.stdout.join('\n')).toContain('no divergence');
    const live = await runInProcess([
      'runs',
      'replay',
      original!.run_id,
      '--model',
      'live',
      '--url',
      url,
      '--json',
    ]);
    expect(live.code).toBe(0);
    const diff = JSON.parse(live.stdout.join('\n')) as { answer: { same: boolean } };
    expect(diff.answer.same).toBe(true);
    // Neither replay ran file_write: the note stays gone.
    expect(existsSync(note)).toBe(false);
    runner.stop();
    expect(await runner.exited).toBe(0);
  });

  it('answers with JSON valid against its output_schema: the run keeps the text and the parsed verdict', async () => {
    const space = workspace();
    const file = relocated(space, 'examples/offline/structured-answer.yaml');
    const runner = startInProcess(['run', file]);
    await runner.waitForLine(/ machine_verdict completed in /);
    runner.stop();
    expect(await runner.exited).toBe(0);
    const { stdout } = await runInProcess(['runs', 'machine_verdict', '--file', file, '--json']);
    const [run] = JSON.parse(stdout.join('\n')) as RunRecord[];
    expect(run?.status).toBe('completed');
    const verdict = run?.output_json as { status: string; memory_used_percent: number };
    expect(verdict).toEqual({
      status: 'ok',
      memory_used_percent: expect.any(Number),
      summary: `memory ${verdict.memory_used_percent}% used`,
    });
    expect(JSON.parse(run?.output ?? '')).toEqual(verdict);
    const shown = await runInProcess(['runs', 'show', run!.run_id, '--file', file]);
    expect(shown.stdout.join('\n')).toContain(`output json   {\n                "status": "ok",`);
  });
});
