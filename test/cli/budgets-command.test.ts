import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import { EventRouter, MemoryRouter } from '../../src/storage/index.js';
import { scriptedAgent } from './cli-process.js';
import { runInProcess } from './in-process.js';

const TOKEN = 'budget-token-5e1f0a';
const INSTANT = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;

/** The cells of a table line (columns are two or more spaces apart). */
const cells = (line: string | undefined) => (line ?? '').trim().split(/\s{2,}/);

describe('nightshift budgets, through a server', () => {
  let service: BackgroundAgentService;
  let server: RunningServer;
  let url: string;

  /** The CLI in this process, against the server, with its token. */
  const cli = (argv: string[], env: Record<string, string> = {}) =>
    runInProcess([...argv, '--url', url, '--token', TOKEN], env);

  beforeAll(async () => {
    service = new BackgroundAgentService(
      new MemoryRouter('in_memory'),
      new EventRouter('in_memory'),
      { env: {}, budgets: { fleet: { per_month: { usd: 20 } } } },
    );
    await service.startManager();
    // Each run: a tool call and two model requests of 1,000 + 100 tokens at $1 / $2 a million.
    await service.createFromUntyped(
      scriptedAgent('archiver', {
        interval: 3600,
        budget_config: { per_day: { requests: 10, tool_calls: 5 } },
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
    server = await startServer(service, { port: 0, token: TOKEN });
    url = server.url;
  });

  afterAll(async () => {
    await server.close();
    await service.shutdown();
  });

  it('lists every budget and capped dimension: spent, held, granted, the limit, when it resets', async () => {
    const listed = await cli(['budgets']);
    expect(listed.stderr).toEqual([]);
    expect(listed.code).toBe(0);
    expect(cells(listed.stdout[0])).toEqual([
      'SCOPE',
      'NAME',
      'WINDOW',
      'SPENT',
      'HELD',
      'GRANTED',
      'LIMIT',
      'RESETS',
    ]);
    const rows = listed.stdout.slice(1).map(cells);
    expect(rows).toEqual([
      [
        'agent',
        'archiver',
        'per_day',
        '2 requests',
        '0 requests',
        '0 requests',
        '10 requests',
        expect.stringMatching(new RegExp(`^${INSTANT}$`)),
      ],
      [
        'agent',
        'archiver',
        'per_day',
        '1 tool call',
        '0 tool calls',
        '0 tool calls',
        '5 tool calls',
        expect.any(String),
      ],
      // 2 × (1,000 × $1 + 100 × $2) / 1,000,000
      ['fleet', '-', 'per_month', '$0.0024', '$0.00', '$0.00', '$20.00', expect.any(String)],
    ]);

    const json = await cli(['budgets', 'list', '--json']);
    const answer = JSON.parse(json.stdout.join('\n')) as {
      budgets: { scope: string; spent: { usd: number } }[];
      grants: unknown[];
    };
    expect(answer.budgets.map((budget) => budget.scope)).toEqual(['agent', 'fleet']);
    expect(answer.budgets[1]?.spent.usd).toBeCloseTo(0.0024, 6);
    expect(answer.grants).toEqual([]);
  });

  it('grants more and prints the grant and the budget after it', async () => {
    const granted = await cli([
      'budgets',
      'grant',
      '--agent',
      'archiver',
      '--window',
      'per_day',
      '--requests',
      '5',
      '--tool-calls',
      '1',
      '--by',
      'alice',
      '--note',
      'the quarterly archive',
    ]);
    expect(granted.stderr).toEqual([]);
    expect(granted.code).toBe(0);
    expect(granted.stdout[0]).toMatch(
      new RegExp(
        `^granted 5 requests, 1 tool call to agent archiver, per_day, until ${INSTANT} \\(\\S+, by alice: the quarterly archive\\)$`,
      ),
    );
    expect(cells(granted.stdout[1])[0]).toBe('SCOPE');
    expect(granted.stdout.slice(2).map(cells)).toEqual([
      [
        'agent',
        'archiver',
        'per_day',
        '2 requests',
        '0 requests',
        '5 requests',
        '10 requests',
        expect.any(String),
      ],
      [
        'agent',
        'archiver',
        'per_day',
        '1 tool call',
        '0 tool calls',
        '1 tool call',
        '5 tool calls',
        expect.any(String),
      ],
    ]);

    const fleet = await cli([
      'budgets',
      'grant',
      '--fleet',
      '--window',
      'per_month',
      '--usd',
      '2.5',
      '--by',
      'bob',
      '--note',
      'month end',
      '--json',
    ]);
    expect(fleet.code).toBe(0);
    const answer = JSON.parse(fleet.stdout.join('\n')) as {
      grant: { scope: string; usd: number; by: string };
      budget: { granted: { usd: number }; limits: { usd: number } };
    };
    expect(answer.grant).toMatchObject({ scope: 'fleet', usd: 2.5, by: 'bob' });
    expect(answer.budget).toMatchObject({ granted: { usd: 2.5 }, limits: { usd: 20 } });

    const listed = await cli(['budgets']);
    expect(
      listed.stdout
        .slice(1)
        .map(cells)
        .map((row) => row[5]),
    ).toEqual(['5 requests', '1 tool call', '$2.50']);
    const grants = (await service.listBudgetGrants()).map((grant) => grant.by);
    expect(grants).toEqual(['bob', 'alice']);
  });

  it("says what is wrong: no scope, no amount, a bad amount, the server's refusals, no token", async () => {
    const base = ['--window', 'per_day', '--by', 'alice', '--note', 'why not'];
    const noScope = await cli(['budgets', 'grant', '--requests', '1', ...base]);
    expect(noScope).toMatchObject({
      code: 1,
      stderr: ['error: say whose budget: --agent <agent_id>, --tag <tag> or --fleet'],
    });
    const noAmount = await cli(['budgets', 'grant', '--agent', 'archiver', ...base]);
    expect(noAmount.code).toBe(1);
    expect(noAmount.stderr[0]).toContain('--usd, --tokens, --requests, --tool-calls');

    const twoScopes = await cli([
      'budgets',
      'grant',
      '--agent',
      'a',
      '--fleet',
      '--requests',
      '1',
      ...base,
    ]);
    expect(twoScopes.code).toBe(1);
    expect(twoScopes.stderr.join('\n')).toMatch(/cannot be used with/);
    const negative = await cli(['budgets', 'grant', '--fleet', '--usd', '-1', ...base]);
    expect(negative.code).toBe(1);
    expect(negative.stderr.join('\n')).toContain('must be a number, 0 or more');
    const noBy = await cli([
      'budgets',
      'grant',
      '--fleet',
      '--usd',
      '1',
      '--window',
      'per_day',
      '--note',
      'n',
    ]);
    expect(noBy.code).toBe(1);
    expect(noBy.stderr.join('\n')).toContain("required option '--by <name>' not specified");

    const nobody = await cli(['budgets', 'grant', '--agent', 'nobody', '--requests', '1', ...base]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr[0]).toMatch(/^error: .*nobody/);
    const noWindow = await cli([
      'budgets',
      'grant',
      '--agent',
      'archiver',
      '--requests',
      '1',
      '--window',
      'per_month',
      '--by',
      'alice',
      '--note',
      'n',
    ]);
    expect(noWindow.code).toBe(1);
    expect(noWindow.stderr[0]).toContain('nothing to grant');

    const withoutToken = await runInProcess(['budgets', '--url', url]);
    expect(withoutToken.code).toBe(1);
    expect(withoutToken.stderr[0]).toContain('requires a token');
    const withoutServer = await runInProcess(['budgets']);
    expect(withoutServer.code).toBe(1);
    expect(withoutServer.stderr[0]).toContain('pass --url');
    // The token comes from NIGHTSHIFT_TOKEN too, and is never printed.
    const fromEnvironment = await runInProcess(['budgets', '--json'], {
      NIGHTSHIFT_URL: url,
      NIGHTSHIFT_TOKEN: TOKEN,
    });
    expect(fromEnvironment.code).toBe(0);
    expect(fromEnvironment.stdout.join('\n')).not.toContain(TOKEN);
  });

  it('grants until --expires (a duration or an instant), lists the grants that expire, and names a bad one', async () => {
    const before = Date.now();
    const granted = await cli([
      'budgets',
      'grant',
      '--agent',
      'archiver',
      '--window',
      'per_day',
      '--requests',
      '2',
      '--by',
      'carol',
      '--note',
      'two hours only',
      '--expires',
      '2h',
      '--json',
    ]);
    expect(granted.stderr).toEqual([]);
    expect(granted.code).toBe(0);
    const { grant } = JSON.parse(granted.stdout.join('\n')) as {
      grant: { expires_at: string; expired_at: string | null; resets_at: string };
    };
    const twoHours = 2 * 60 * 60 * 1_000;
    expect(Date.parse(grant.expires_at)).toBeGreaterThanOrEqual(before + twoHours);
    expect(Date.parse(grant.expires_at)).toBeLessThanOrEqual(Date.now() + twoHours);
    expect(grant.expired_at).toBeNull();

    const soon = new Date(Date.now() + 60_000).toISOString();
    const atInstant = await cli([
      'budgets',
      'grant',
      '--fleet',
      '--window',
      'per_month',
      '--usd',
      '1',
      '--by',
      'dave',
      '--note',
      'a minute',
      '--expires',
      soon,
    ]);
    expect(atInstant.stderr).toEqual([]);
    expect(atInstant.stdout[0]).toMatch(
      new RegExp(
        `^granted \\$1\\.00 to the fleet, per_month, until ${soon.replace(/\.\d+Z$/, 'Z')} `,
      ),
    );

    const listed = await cli(['budgets']);
    expect(listed.code).toBe(0);
    const title = listed.stdout.indexOf('grants that expire:');
    expect(title).toBeGreaterThan(0);
    expect(listed.stdout[title - 1]).toBe('');
    expect(cells(listed.stdout[title + 1])).toEqual([
      'SCOPE',
      'NAME',
      'WINDOW',
      'GRANTED',
      'EXPIRES',
      'STATE',
      'BY',
    ]);
    // Soonest first; the grants without an expiry are not among them.
    expect(listed.stdout.slice(title + 2).map(cells)).toEqual([
      ['fleet', '-', 'per_month', '$1.00', soon.replace(/\.\d+Z$/, 'Z'), 'counting', 'dave'],
      [
        'agent',
        'archiver',
        'per_day',
        '2 requests',
        grant.expires_at.replace(/\.\d+Z$/, 'Z'),
        'counting',
        'carol',
      ],
    ]);

    const base = ['--agent', 'archiver', '--window', 'per_day', '--requests', '1'];
    const who = ['--by', 'erin', '--note', 'n'];
    const notWhen = await cli(['budgets', 'grant', ...base, ...who, '--expires', 'soon']);
    expect(notWhen.code).toBe(1);
    expect(notWhen.stderr.join('\n')).toContain(
      "option '--expires <when>' argument 'soon' is invalid",
    );
    expect(notWhen.stderr.join('\n')).toContain('ISO 8601 instant');
    const zero = await cli(['budgets', 'grant', ...base, ...who, '--expires', '0m']);
    expect(zero.code).toBe(1);
    expect(zero.stderr.join('\n')).toContain('longer than 0');
    const past = await cli([
      'budgets',
      'grant',
      ...base,
      ...who,
      '--expires',
      '2020-01-01T00:00:00Z',
    ]);
    expect(past.code).toBe(1);
    expect(past.stderr).toEqual([
      'error: invalid budget grant',
      expect.stringMatching(/^expires_at: must be in the future \(it is \S+ now\)$/),
    ]);
    const noOffset = await cli([
      'budgets',
      'grant',
      ...base,
      ...who,
      '--expires',
      '2999-01-01T00:00',
    ]);
    expect(noOffset.code).toBe(1);
    expect(noOffset.stderr[1]).toMatch(/^expires_at: must be an ISO 8601 instant/);
    expect((await service.listBudgetGrants()).map((entry) => entry.by)).not.toContain('erin');
  });
});
