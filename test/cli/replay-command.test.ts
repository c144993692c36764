/**
 * `nightshift runs replay <run_id>` through a server: the replay's id and status, the diff a row
 * a call, and the first divergence (none for an unchanged agent; the first model call after its
 * system instruction changed); `--json` prints the diff; `--no-wait` the run as it started.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import { EventRouter, MemoryRouter, type RunRecord } from '../../src/storage/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { runInProcess } from './in-process.js';

const TOKEN = 'runs-replay-token-3c9d';

/** The cells of a table line (columns are two or more spaces apart). */
const cells = (line: string | undefined) => (line ?? '').trim().split(/\s{2,}/);

describe('nightshift runs replay', () => {
  let service: BackgroundAgentService;
  let server: RunningServer;
  let original: RunRecord;
  const cli = (...argv: string[]) =>
    runInProcess(['runs', 'replay', ...argv, '--url', server.url, '--token', TOKEN]);

  beforeAll(async () => {
    service = new BackgroundAgentService(
      new MemoryRouter('in_memory'),
      new EventRouter('in_memory'),
      { env: {} },
    );
    await service.startManager();
    await service.create({
      agent_id: 'monitor',
      interval: 3600,
      system_instruction: 'You watch the disks.',
      tools: ['system_stats'],
      model_config: {
        provider: 'scripted',
        script: [{ tool: 'system_stats' }, { answer: 'All disks have room.' }],
      },
      task_config: { query: 'Check the disk.' },
    });
    original = await service.runNow('monitor', { wait: true });
    expect(original.status).toBe('completed');
    server = await startServer(service, { port: 0, token: TOKEN });
  });

  afterAll(async () => {
    await server.close();
    await service.shutdown();
  });

  it('replays from the journal, waits for the end, and shows each call the same', async () => {
    const { code, stdout, stderr } = await cli(original.run_id);
    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    expect(stdout[0]).toMatch(
      new RegExp(
        `^replay of ${original.run_id} \\(model recorded, tools recorded\\): \\S+: completed`,
      ),
    );
    const replayId = /: (\S+): completed/.exec(stdout[0]!)![1]!;
    expect(await service.getRun(replayId)).toMatchObject({
      trigger: 'replay',
      replay_of: original.run_id,
    });
    expect(stdout[1]).toBe('statuses: original completed, replay completed');
    expect(cells(stdout[2])).toEqual([
      '#',
      'KIND',
      'ORIGINAL',
      'REPLAY',
      'SAME',
      'FIRST DIFFERENCE',
    ]);
    const rows = stdout.slice(3, 6).map(cells);
    expect(rows.map((row) => [row[0], row[1], row.at(-1)])).toEqual([
      ['0', 'model', 'same'],
      ['1', 'tool', 'same'],
      ['2', 'model', 'same'],
    ]);
    expect(rows[1]![2]).toMatch(/system_stats success$/);
    expect(stdout.slice(6)).toEqual(['answer: the same', 'no divergence']);
  });

  it('prints the diff as JSON with --json', async () => {
    const { code, stdout } = await cli(original.run_id, '--json');
    expect(code).toBe(0);
    const diff = JSON.parse(stdout.join('\n'));
    expect(diff).toMatchObject({
      original_run_id: original.run_id,
      mode: { model: 'recorded', tools: 'recorded' },
      first_divergence: null,
      answer: { same: true },
    });
    expect(diff.steps).toHaveLength(3);
  });

  it('prints the replay as it started with --no-wait', async () => {
    const { code, stdout } = await cli(original.run_id, '--no-wait', '--model', 'recorded');
    expect(code).toBe(0);
    expect(stdout[0]).toMatch(new RegExp(`^replay of ${original.run_id}: (\\S+): `));
    const replayId = /: (\S+): /.exec(stdout[0]!)![1]!;
    expect(stdout[1]).toBe(`follow it with: nightshift runs show ${replayId}`);
    await waitFor(async () => (await service.getRun(replayId)).status === 'completed', {
      timeoutMs: 5000,
    });
  });

  it('refuses a source it does not know, and a run that does not exist', async () => {
    const bad = await cli(original.run_id, '--tools', 'sometimes');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.join('\n')).toMatch(/--tools.*sometimes|sometimes.*--tools/s);
    const missing = await cli('nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr.join('\n')).toMatch(/no run with id "nope"/);
    const noServer = await runInProcess(['runs', 'replay', original.run_id]);
    expect(noServer.code).toBe(1);
    expect(noServer.stderr.join('\n')).toMatch(/pass --url/);
  });

  // Last: it changes the agent.
  it('shows the first divergence at the first model call once the system instruction changed', async () => {
    await service.updateAgent('monitor', { system_instruction: 'You watch the disks, briefly.' });
    const { code, stdout } = await cli(original.run_id);
    expect(code).toBe(0);
    const first = cells(stdout[3]);
    expect(first.slice(0, 2)).toEqual(['0', 'model']);
    expect(first).toContain('differs');
    expect(stdout.at(-1)).toMatch(/^first divergence: #0 \(step \S+\): the request differs/);
    // The replay's answers still came from the journal.
    expect(stdout.at(-2)).toBe('answer: the same');
  });
});
