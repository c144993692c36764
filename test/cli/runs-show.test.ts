import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/server/dashboard/run-report.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import { EventRouter, MemoryRouter, type RunRecord } from '../../src/storage/index.js';
import { resumedRun, writeResumedRun, type ResumedRun } from '../server/resumed-run-fixture.js';
import { createWorkspace, nightshiftFile, scriptedAgent, type Workspace } from './cli-process.js';
import { runInProcess } from './in-process.js';

const TOKEN = 'runs-show-token-5b1e';
const INSTANT = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;

describe('nightshift runs show', () => {
  let space: Workspace;
  let service: BackgroundAgentService;
  let server: RunningServer;
  let file: string;
  const runs: RunRecord[] = [];
  let failed: RunRecord;
  let resumed: ResumedRun;

  beforeAll(async () => {
    space = createWorkspace();
    file = space.writeFile('nightshift.yaml', nightshiftFile(space, []));
    service = new BackgroundAgentService(
      new MemoryRouter('database', { url: space.databaseUrl }),
      new EventRouter('database', { url: space.databaseUrl }),
      { env: {} },
    );
    await service.startManager();
    await service.createFromUntyped(
      scriptedAgent('monitor', {
        interval: 3600,
        task_config: { query: 'Check the disk.' },
        tools: ['system_stats'],
        model_config: {
          provider: 'scripted',
          script: [
            {
              tool: 'system_stats',
              args: { cpu_sample_ms: 50 },
              usage: { input_tokens: 120, output_tokens: 30 },
            },
            {
              answer: 'All disks have room.\nNothing to do.',
              usage: { input_tokens: 200, output_tokens: 25 },
            },
          ],
        },
      }),
    );
    await service.createFromUntyped(
      scriptedAgent('flaky', {
        interval: 3600,
        tools: [],
        model_config: { provider: 'scripted', script: [{ fail: 'upstream said no' }] },
      }),
    );
    for (let index = 0; index < 3; index += 1)
      runs.push(await service.runNow('monitor', { wait: true }));
    failed = await service.runNow('flaky', { wait: true });
    // A run resumed after its process died, as its journal left it in the store.
    resumed = resumedRun('mailer', Date.now() - 120_000);
    const memory = new MemoryRouter('database', { url: space.databaseUrl });
    const log = new EventRouter('database', { url: space.databaseUrl });
    await writeResumedRun(resumed, (await memory.connect()).runs, await log.connect());
    await Promise.all([memory.close(), log.close()]);
    server = await startServer(service, { port: 0, token: TOKEN });
  });

  afterAll(async () => {
    await server.close();
    await service.shutdown();
    space.remove();
  });

  it('prints the run page through a server: fields, attempts, timeline with reply, arguments and result, events', async () => {
    const [previous, shown, next] = runs;
    const { code, stdout, stderr } = await runInProcess([
      'runs',
      'show',
      shown?.run_id ?? '',
      '--url',
      server.url,
      '--token',
      TOKEN,
    ]);
    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    const text = stdout.join('\n');
    expect(stdout[0]).toBe(`run           ${shown?.run_id}`);
    expect(stdout).toContain('agent         monitor');
    expect(stdout).toContain('status        completed');
    expect(stdout).toContain('usage         2 requests, 375 tokens (320 in, 55 out)');
    expect(stdout).toContain('cost          - (free or unpriced model)');
    expect(text).toMatch(
      new RegExp(`^started       ${INSTANT} \\(\\d+ ms after it was due\\)$`, 'm'),
    );
    expect(text).toMatch(new RegExp(`^duration      \\d+ ms$`, 'm'));
    expect(stdout).toContain(
      `previous run  ${previous?.run_id} (completed, ${previous?.scheduled_at.replace(/\.\d+Z$/, 'Z')})`,
    );
    expect(text).toContain(`next run      ${next?.run_id} (completed, `);
    // A multi-line answer continues under itself.
    expect(stdout).toContain('output        All disks have room.');
    expect(stdout).toContain('              Nothing to do.');

    const attempts = stdout.indexOf('attempts');
    expect(stdout[attempts + 1]?.trim().split(/\s{2,}/)).toEqual([
      'ATTEMPT',
      'STATUS',
      'WORKER',
      'STARTED',
      'DURATION',
      'TOKENS',
      'ERROR',
    ]);
    expect(stdout[attempts + 2]).toMatch(
      new RegExp(`^ +1  completed  \\S+  ${INSTANT} +\\d+ ms +375$`),
    );

    const timeline = stdout.slice(
      stdout.indexOf('timeline') + 1,
      stdout.findIndex((line) => line.startsWith('events')) - 1,
    );
    const heads = timeline
      .filter((line) => /^ {2}\d/.test(line))
      .map((line) => line.replace(new RegExp(`^  ${INSTANT}  `), ''));
    expect(heads).toEqual([
      'attempt 1 started (manual)',
      'user_message: Check the disk.',
      expect.stringMatching(
        /^model call 1\.0: completed in \d+ ms, 150 tokens \(120 in, 30 out\), finish tool-calls$/,
      ),
      expect.stringMatching(/^tool call 1\.1 system_stats: completed in \d+ ms, success$/),
      expect.stringMatching(
        /^model call 1\.2: completed in \d+ ms, 225 tokens \(200 in, 25 out\), finish stop$/,
      ),
      expect.stringMatching(/^background_task_completed in \d+ ms, 375 tokens$/),
    ]);
    expect(timeline).toContain('      arguments  {"top_processes":5,"cpu_sample_ms":50}');
    expect(timeline.some((line) => line.startsWith('      result     {"hostname":'))).toBe(true);
    // A reply on one line: the tools it called by name, or the start of its text.
    expect(timeline).toContain('      reply      calls system_stats');
    expect(timeline).toContain('      reply      All disks have room. Nothing to do.');

    expect(stdout).toContain('events (6)');
    const events = stdout.slice(stdout.indexOf('events (6)') + 1);
    expect(events.map((line) => line.trim().split(/\s+/)[2]?.replace(/:$/, ''))).toEqual([
      'background_task_started',
      'user_message',
      'tool_call_started',
      'tool_call_result',
      'final_answer',
      'background_task_completed',
    ]);
  });

  it('prints the same from the store (--memory, --file), and the report as JSON', async () => {
    const runId = runs[1]?.run_id ?? '';
    const [served, fromMemory, fromFile, json] = await Promise.all([
      runInProcess(['runs', 'show', runId, '--url', server.url, '--token', TOKEN]),
      runInProcess(['runs', 'show', runId, '--memory', space.databaseUrl]),
      runInProcess(['runs', 'show', runId, '--file', file]),
      runInProcess(['runs', 'show', runId, '--file', file, '--json']),
    ]);
    expect(fromMemory.stderr).toEqual([]);
    expect(fromMemory.stdout).toEqual(served.stdout);
    expect(fromFile.stdout).toEqual(served.stdout);
    const report = JSON.parse(json.stdout.join('\n')) as RunReport;
    expect(report.run.run_id).toBe(runId);
    expect(report.previous_run?.run_id).toBe(runs[0]?.run_id);
    expect(report.events).toHaveLength(6);
    expect(report.timeline.map((entry) => entry.kind)).toEqual([
      'event',
      'event',
      'model_call',
      'tool_call',
      'model_call',
      'event',
    ]);
    // Options before `show` belong to `runs`, and reach it all the same.
    const before = await runInProcess(['runs', '--memory', space.databaseUrl, 'show', runId]);
    expect(before.stdout).toEqual(served.stdout);
  });

  it('shows a failed run with its error, and says so for a run that does not exist', async () => {
    const shown = await runInProcess([
      'runs',
      'show',
      failed.run_id,
      '--memory',
      space.databaseUrl,
    ]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('status        failed');
    expect(shown.stdout).toContain('error         model_error: upstream said no');
    expect(shown.stdout).toContain('previous run  -');
    expect(
      shown.stdout.some((line) => /model call 1\.0: started, never finished$/.test(line)),
    ).toBe(true);
    expect(
      shown.stdout.some((line) =>
        / background_task_error failed \(model_error: upstream said no\)$/.test(line),
      ),
    ).toBe(true);

    const [served, stored] = await Promise.all([
      runInProcess(['runs', 'show', 'monitor.42', '--url', server.url, '--token', TOKEN]),
      runInProcess(['runs', 'show', 'monitor.42', '--memory', space.databaseUrl]),
    ]);
    for (const missing of [served, stored]) {
      expect(missing.code).toBe(1);
      expect(missing.stderr).toEqual(['error: no run with id "monitor.42"']);
    }
  });

  it('shows a resumed run: where each attempt resumed, the resume, replies, outcomes and results', async () => {
    const runId = resumed.run.run_id;
    const [stored, served] = await Promise.all([
      runInProcess(['runs', 'show', runId, '--memory', space.databaseUrl]),
      runInProcess(['runs', 'show', runId, '--url', server.url, '--token', TOKEN]),
    ]);
    expect(stored.stderr).toEqual([]);
    expect(served.stdout).toEqual(stored.stdout);
    const { stdout } = stored;
    expect(stdout).toContain('status        completed (2 attempts)');
    const attempts = stdout.indexOf('attempts');
    expect(stdout[attempts + 2]?.trim().split(/\s{2,}/)).toEqual([
      '1',
      'interrupted',
      'box-1:11:dead',
      expect.stringMatching(new RegExp(`^${INSTANT}$`)),
      '1 min 0 s',
      '360',
      'interrupted: the process running it stopped',
    ]);
    expect(stdout[attempts + 3]?.trim().split(/\s{2,}/)).toEqual([
      '2',
      'completed (resumed from step 1.3)',
      'box-2:22:live',
      expect.stringMatching(new RegExp(`^${INSTANT}$`)),
      '9.0 s',
      '180',
    ]);

    const timeline = stdout.slice(
      stdout.indexOf('timeline') + 1,
      stdout.findIndex((line) => line.startsWith('events')) - 1,
    );
    expect(timeline.map((line) => line.replace(new RegExp(`^  ${INSTANT}  `), ''))).toEqual([
      'attempt 1 started (manual)',
      'user_message: Confirm order 42 to its buyer.',
      'model call 1.0: completed in 1.0 s, 120 tokens (100 in, 20 out), finish tool-calls',
      '      reply      Let me look the order up first. → calls lookup_order',
      'tool call 1.1 lookup_order: completed in 1.0 s, success',
      '      arguments  {"id":42}',
      `      result     "${'x'.repeat(60)}" (cut: 5000 characters, 60 kept)`,
      'model call 1.2: completed in 1.0 s, 240 tokens (200 in, 40 out), finish tool-calls',
      '      reply      calls send_email',
      'tool call 1.3 send_email: started, never finished',
      '      arguments  {"to":"buyer@example.com"}',
      'background_task_error interrupted (interrupted: the process running it stopped), will retry',
      'attempt 2 started (manual)',
      'resume 2.0: attempt 2 resumed from step 1.3 (2 model calls answered from the journal, 1 tool call not run again)',
      'tool call 2.1 send_email: completed in 0 ms, not run again: outcome unknown',
      '      arguments  {"to":"buyer@example.com"}',
      '      error      the process running this call of send_email stopped before its result was recorded',
      'model call 2.2: completed in 6.0 s, 180 tokens (150 in, 30 out), finish stop',
      '      reply      Order 42 shipped; the email may not have gone out. Check the outbox.',
      'background_task_completed in 1 min 10 s, 540 tokens',
    ]);
  });

  it('still lists runs with `runs <agent_id>`', async () => {
    const listed = await runInProcess([
      'runs',
      'monitor',
      '--memory',
      space.databaseUrl,
      '--limit',
      '2',
    ]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toHaveLength(3);
    expect(listed.stdout[1]).toContain(runs[2]?.run_id);
  });
});
