/**
 * `nightshift agents backfill` through a server: the plan as a table of ticks with the estimate
 * and the budgets, the ticks that fit started, and what is wrong said plainly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventLineFormatter } from '../../src/cli/event-line.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { BackgroundAgentService, type BackfillPlan } from '../../src/service/index.js';
import { EventRouter, MemoryRouter } from '../../src/storage/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { scriptedAgent } from './cli-process.js';
import { runInProcess } from './in-process.js';

const TOKEN = 'backfill-token-3c9d1e';
const HOUR = 3_600_000;
const INSTANT = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;

/** The cells of a table line (columns are two or more spaces apart). */
const cells = (line: string | undefined) => (line ?? '').trim().split(/\s{2,}/);

describe('nightshift agents backfill, through a server', () => {
  let service: BackgroundAgentService;
  let server: RunningServer;
  let url: string;
  let range: string[];

  /** The CLI in this process, against the server, with its token. */
  const cli = (argv: string[], env: Record<string, string> = {}) =>
    runInProcess([...argv, '--url', url, '--token', TOKEN], env);

  beforeAll(async () => {
    service = new BackgroundAgentService(
      new MemoryRouter('in_memory'),
      new EventRouter('in_memory'),
      { env: {} },
    );
    await service.startManager();
    // Each run: a tool call and two model requests of 1,000 + 100 tokens at $1 / $2 a million,
    // $0.0024; five requests a day leave three after the first run: one more run's worth.
    const status = await service.createFromUntyped(
      scriptedAgent('archiver', {
        interval: 3600,
        budget_config: { per_day: { requests: 5 } },
        model_config: {
          provider: 'scripted',
          pricing: { input_per_million: 1, output_per_million: 2 },
          script: [
            { tool: 'system_stats', usage: { input_tokens: 1000, output_tokens: 100 } },
            { answer: 'archived', usage: { input_tokens: 1000, output_tokens: 100 } },
          ],
        },
      }),
    );
    await service.runNow('archiver', { wait: true });
    const created = Date.parse(status.created_at);
    range = [
      '--from',
      new Date(created - 3.5 * HOUR).toISOString(),
      '--to',
      new Date(created - 0.5 * HOUR).toISOString(),
    ];
    server = await startServer(service, { port: 0, token: TOKEN });
    url = server.url;
  });

  afterAll(async () => {
    await server.close();
    await service.shutdown();
  });

  it('prints the plan of a dry run: each tick, the estimate per run, the budgets; starts nothing', async () => {
    const planned = await cli(['agents', 'backfill', 'archiver', ...range, '--dry-run']);
    expect(planned.stderr).toEqual([]);
    expect(planned.code).toBe(0);
    const [head, header, ...rest] = planned.stdout;
    expect(head).toMatch(
      new RegExp(
        `^dry run: 3 ticks of archiver from ${INSTANT} to ${INSTANT}: 1 would run, 2 over budget, 0 already ran$`,
      ),
    );
    expect(cells(header)).toEqual(['TICK', 'STATUS', 'RUN']);
    expect(rest.slice(0, 3).map((line) => cells(line).slice(1))).toEqual([
      ['fits', expect.stringMatching(/^archiver\.\d+$/)],
      ['over budget', expect.stringMatching(/^archiver\.\d+$/)],
      ['over budget', expect.stringMatching(/^archiver\.\d+$/)],
    ]);
    expect(rest[3]).toBe(
      'estimate per run: $0.0024, 2,200 tokens, 2 requests (the mean of 1 recent run)',
    );
    expect(cells(rest[4])).toEqual(['SCOPE', 'NAME', 'WINDOW', 'LEFT', 'RUNS THAT FIT', 'RESETS']);
    expect(cells(rest[5])).toEqual([
      'agent',
      'archiver',
      'per_day',
      '3 requests',
      '1',
      expect.stringMatching(new RegExp(`^${INSTANT}$`)),
    ]);
    expect(rest.slice(6).every((line) => line.startsWith('note: '))).toBe(true);
    expect(await service.listRuns('archiver')).toHaveLength(1);

    const json = await cli(['agents', 'backfill', 'archiver', ...range, '--dry-run', '--json']);
    const plan = JSON.parse(json.stdout.join('\n')) as BackfillPlan;
    expect(plan).toMatchObject({ agent_id: 'archiver', dry_run: true });
    expect(plan.counts).toEqual({ already_ran: 0, fits: 1, queued: 0, over_budget: 2 });
  });

  it('starts the ticks that fit, and marks them run the next time', async () => {
    const started = await cli(['agents', 'backfill', 'archiver', ...range]);
    expect(started.stderr).toEqual([]);
    expect(started.code).toBe(0);
    expect(started.stdout[0]).toMatch(
      /^backfill of archiver from .* 1 of 3 ticks queued \(they run one after another\), 2 over budget, 0 already ran$/,
    );
    expect(cells(started.stdout[2])[1]).toBe('queued');
    const runId = cells(started.stdout[2])[2] ?? '';
    const run = await waitFor(async () => {
      const found = (await service.listRuns('archiver')).find((r) => r.run_id === runId);
      return found?.status === 'completed' ? found : undefined;
    });
    expect(run.trigger).toBe('backfill');
    // The line `nightshift run` prints when it starts says it is a backfill, and of which tick.
    const startedEvent = (await service.readEvents({ agent_id: 'archiver' })).find(
      (event) => event.type === 'background_task_started' && event.run_id === runId,
    );
    expect(startedEvent && createEventLineFormatter()(startedEvent)).toMatch(
      new RegExp(
        `^${INSTANT} archiver run started \\(attempt 1, backfill of ${run.scheduled_at.replace(/\.\d+Z$/, 'Z')}\\)$`,
      ),
    );

    const again = await cli(['agents', 'backfill', 'archiver', ...range, '--dry-run']);
    expect(cells(again.stdout[2])[1]).toBe('already ran (completed)');
  });

  it('says what is wrong: a missing or bad instant, an unknown agent, no server', async () => {
    const noFrom = await cli(['agents', 'backfill', 'archiver', '--to', range[3] ?? '']);
    expect(noFrom.code).toBe(1);
    expect(noFrom.stderr.join('\n')).toContain("required option '--from <iso>' not specified");

    const bad = await cli([
      'agents',
      'backfill',
      'archiver',
      '--from',
      'monday',
      '--to',
      range[3] ?? '',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr[0]).toBe('error: invalid backfill');
    expect(bad.stderr[1]).toMatch(
      /^from: must be an ISO 8601 instant with a time and Z or an offset/,
    );

    const future = await cli([
      'agents',
      'backfill',
      'archiver',
      '--from',
      range[1] ?? '',
      '--to',
      new Date(Date.now() + HOUR).toISOString(),
    ]);
    expect(future.code).toBe(1);
    expect(future.stderr[1]).toMatch(/^to: must not be in the future/);

    const nobody = await cli(['agents', 'backfill', 'nobody', ...range]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr[0]).toMatch(/^error: .*nobody/);

    const withoutServer = await runInProcess(['agents', 'backfill', 'archiver', ...range]);
    expect(withoutServer.code).toBe(1);
    expect(withoutServer.stderr[0]).toContain('pass --url');
  });
});
