import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNightshiftFile } from '../../src/config/load-config-file.js';
import { parseAgentDefinition } from '../../src/config/parse-agent-definition.js';
import { costMicroUsd, resolvePrice, usdToMicroUsd } from '../../src/config/pricing.js';
import { NightshiftError } from '../../src/errors.js';

/** The fields a refusal names, and their messages. */
function refusedFields(parse: () => unknown): Record<string, string> {
  try {
    parse();
  } catch (error) {
    if (!NightshiftError.isInstance(error)) throw error;
    expect(error.code).toBe('config_invalid');
    return Object.fromEntries((error.fields ?? []).map((field) => [field.path, field.message]));
  }
  throw new Error('expected a refusal');
}

const remote = {
  provider: 'openai_compatible',
  model: 'house-model',
  base_url: 'https://models.example.com/v1',
};

function agent(overrides: Record<string, unknown>) {
  return {
    agent_id: 'spender',
    interval: 60,
    model_config: remote,
    task_config: { query: 'Work.' },
    ...overrides,
  };
}

describe('prices', () => {
  it('reads a model’s own price, then the file’s, then the table’s (a snapshot by its base), else free for local models', () => {
    const own = { input_per_million: 1, output_per_million: 2 };
    expect(resolvePrice({ ...remote, pricing: own })).toEqual({
      pricing: own,
      source: 'model_config',
    });
    expect(resolvePrice(remote, { 'house-model': own })).toEqual({ pricing: own, source: 'file' });
    expect(resolvePrice({ provider: 'openai', model: 'gpt-4o-2024-08-06' })?.pricing).toMatchObject(
      { input_per_million: 2.5, output_per_million: 10 },
    );
    // A longer name is not its prefix's model.
    expect(
      resolvePrice({ provider: 'openai', model: 'gpt-4o-mini' })?.pricing.input_per_million,
    ).toBe(0.15);
    expect(resolvePrice({ provider: 'openai', model: 'gpt-4o-realtime' })).toBeUndefined();
    expect(resolvePrice({ provider: 'ollama', model: 'llama3' })?.source).toBe('free');
    expect(
      resolvePrice({
        provider: 'openai_compatible',
        model: 'x',
        base_url: 'http://127.0.0.1:8080/v1',
      })?.source,
    ).toBe('free');
    expect(resolvePrice(remote)).toBeUndefined();
  });

  it('counts money in whole millionths: cached input at its price, rounded up, and limits rounded down', () => {
    const pricing = { input_per_million: 2, cached_input_per_million: 0.5, output_per_million: 8 };
    expect(
      costMicroUsd({ input_tokens: 1000, output_tokens: 100, cached_input_tokens: 400 }, pricing),
    ).toBe(2200);
    // No cached price: cached input costs the input price.
    expect(
      costMicroUsd(
        { input_tokens: 1000, output_tokens: 0, cached_input_tokens: 400 },
        { input_per_million: 2, output_per_million: 8 },
      ),
    ).toBe(2000);
    expect(
      costMicroUsd(
        { input_tokens: 1, output_tokens: 0 },
        { input_per_million: 0.3, output_per_million: 0 },
      ),
    ).toBe(1);
    expect(usdToMicroUsd(0.3)).toBe(300_000);
    expect(usdToMicroUsd(0.0000019)).toBe(1);
  });
});

describe('budget definitions', () => {
  it('refuses a budget in dollars for a model without a known price, naming model_config.pricing', () => {
    const fields = refusedFields(() =>
      parseAgentDefinition(agent({ budget_config: { per_day: { usd: 2 } } })),
    );
    expect(fields['model_config.pricing']).toMatch(
      /budget_config\.per_day\.usd .* "house-model" has no known price/,
    );
    // A budget in tokens needs no price; a price makes the dollars budget fine.
    expect(
      parseAgentDefinition(agent({ budget_config: { per_day: { tokens: 1000 } } })).budget_config,
    ).toMatchObject({ per_day: { tokens: 1000 }, on_exhausted: 'fail' });
    expect(
      parseAgentDefinition(
        agent({
          model_config: { ...remote, pricing: { input_per_million: 1, output_per_million: 2 } },
          budget_config: { per_day: { usd: 2 } },
        }),
      ).budget_config?.per_day,
    ).toEqual({ usd: 2 });
  });

  it('names every bad budget field: negative amounts, fractions, unknown windows, empty caps, bad tags, a stray zone', () => {
    const fields = refusedFields(() =>
      parseAgentDefinition(
        agent({
          model_config: { ...remote, pricing: { input_per_million: -1, output_per_million: 2 } },
          budget_config: {
            per_run: { usd: -0.5 },
            per_day: { tokens: 1.5 },
            per_week: { usd: 1 },
            per_month: {},
            on_exhausted: 'panic',
          },
          tags: ['ok', 'not ok'],
        }),
      ),
    );
    expect(Object.keys(fields).sort()).toEqual(
      [
        'budget_config.on_exhausted',
        'budget_config.per_day.tokens',
        'budget_config.per_month',
        'budget_config.per_run.usd',
        'budget_config.per_week',
        'model_config.pricing.input_per_million',
        'tags[1]',
      ].sort(),
    );
    expect(fields['budget_config.per_month']).toMatch(
      /at least one of usd, tokens, requests, tool_calls/,
    );
    expect(fields['budget_config.per_run.usd']).toMatch(/at least 0/);
    // A zone says where budget days begin: fine with a budget, refused without one or a cron.
    expect(
      parseAgentDefinition(
        agent({ timezone: 'Asia/Tokyo', budget_config: { per_day: { requests: 10 } } }),
      ).timezone,
    ).toBe('Asia/Tokyo');
    expect(refusedFields(() => parseAgentDefinition(agent({ timezone: 'Asia/Tokyo' })))).toEqual({
      timezone: 'only applies with cron or budget_config',
    });
  });
});

describe('a Nightshift file’s pricing and budgets', () => {
  const directories: string[] = [];
  afterEach(() => {
    for (const directory of directories.splice(0))
      rmSync(directory, { recursive: true, force: true });
  });
  function write(text: string): string {
    const directory = mkdtempSync(join(tmpdir(), 'nightshift-budgets-'));
    directories.push(directory);
    const path = join(directory, 'nightshift.yaml');
    writeFileSync(path, text);
    return path;
  }
  const agentLines = [
    'agents:',
    '  - agent_id: spender',
    '    model_config: { provider: openai_compatible, model: house-model, base_url: "https://models.example.com/v1" }',
    '    interval: 60',
    '    tags: [nightly]',
    '    budget_config: { per_day: { usd: 1 } }',
    '    task_config: { query: Work. }',
  ];

  it('prices a model for its agents and reads the fleet’s and the tags’ budgets', () => {
    const file = loadNightshiftFile(
      write(
        [
          'pricing:',
          '  house-model: { input_per_million: 0.5, output_per_million: 1.5 }',
          'budgets:',
          '  fleet: { per_day: { usd: 5 } }',
          '  tags: { nightly: { per_month: { usd: 40, requests: 10000 } } }',
          ...agentLines,
        ].join('\n'),
      ),
      { env: {} },
    );
    expect(file.pricing).toEqual({
      'house-model': { input_per_million: 0.5, output_per_million: 1.5 },
    });
    expect(file.budgets).toEqual({
      fleet: { per_day: { usd: 5 } },
      tags: { nightly: { per_month: { usd: 40, requests: 10000 } } },
    });
  });

  it('refuses an agent’s dollars without a price, and bad budgets, by their paths', () => {
    const path = write(
      [
        'budgets:',
        '  fleet: { per_day: { usd: -5 }, per_run: { usd: 1 } }',
        '  teams: { ops: { per_day: { usd: 1 } } }',
        ...agentLines,
      ].join('\n'),
    );
    const fields = refusedFields(() => loadNightshiftFile(path, { env: {} }));
    expect(Object.keys(fields).sort()).toEqual(
      [
        'agents[0].model_config.pricing',
        'budgets.fleet.per_day.usd',
        'budgets.fleet.per_run',
        'budgets.teams',
      ].sort(),
    );
  });
});
