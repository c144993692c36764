import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { editDistance, closestName } from '../../src/config/did-you-mean.js';
import { loadNightshiftFile } from '../../src/config/load-config-file.js';
import { checkAgentDefinition } from '../../src/config/parse-agent-definition.js';
import { NightshiftError, type FieldError } from '../../src/errors.js';

const TOOLS = ['system_stats', 'service_check', 'http_fetch', 'feed_read'];

/** Field errors as `path → message`; each path below is broken once. */
const byPath = (fields: readonly FieldError[]) =>
  Object.fromEntries(fields.map((field) => [field.path, field.message]));

/**
 * One definition that breaks every kind of check at once: a required section missing (the kind
 * of failure that made zod skip the cross-field rules), a misspelt key, two schedule kinds, a
 * misspelt provider and tool, and an MCP server without the URL its transport needs.
 */
const BROKEN_EVERYWHERE = {
  agent_id: 'digest',
  intervall: 60,
  cron: '0 9 * * *',
  run_at: '2030-01-01T09:00:00Z',
  model_config: { provider: 'opnai', model: 'gpt-4o-mini' },
  tools: ['feed_read', 'system_stat'],
  mcp_tools: [{ name: 'tracker', transport_type: 'sse' }],
};

describe('validation reports every problem in one pass', () => {
  it('names every broken check of one definition together', () => {
    const { definition, fields } = checkAgentDefinition(BROKEN_EVERYWHERE, {
      tools: TOOLS,
      env: {},
    });
    expect(definition).toBeUndefined();
    expect(byPath(fields)).toEqual({
      // schema
      task_config: 'required',
      // keys
      intervall: 'unknown field; did you mean "interval"?',
      // schedule
      run_at: 'only one of interval, cron or run_at may be set (got cron, run_at)',
      // providers
      'model_config.provider': expect.stringMatching(
        /^unknown provider "opnai" .*; did you mean "openai"\?$/,
      ),
      // tools
      'tools[1]': expect.stringMatching(
        /^unknown tool "system_stat" .*; did you mean "system_stats"\?$/,
      ),
      // MCP servers
      'mcp_tools[0].url': 'required for the sse transport',
    });
  });

  it('refuses a scripted plan that can never answer, with the other problems', () => {
    const { fields } = checkAgentDefinition(
      {
        agent_id: 'rehearsal',
        interval: 'hourly',
        timezone: 'Europe/Paris',
        model_config: { provider: 'scripted', script: [{ delay: 1 }] },
        task_config: { query: 'check' },
      },
      { env: {} },
    );
    expect(byPath(fields)).toEqual({
      interval: 'must be a number of seconds',
      timezone: 'only applies with cron or budget_config',
      'model_config.script[0]': expect.stringContaining('without an answer'),
    });
  });

  it('refuses a plan of tool steps only, none of them answering', () => {
    const { fields } = checkAgentDefinition(
      {
        agent_id: 'tools_only',
        interval: 60,
        tools: ['feed_read'],
        model_config: {
          provider: 'scripted',
          script: [{ tool: 'feed_read', args: { url: 'https://example.com/feed' } }],
        },
        task_config: { query: 'digest' },
      },
      { tools: TOOLS, env: {} },
    );
    expect(byPath(fields)).toEqual({
      'model_config.script': expect.stringContaining('no step answers'),
    });
  });

  it('accepts plans that answer: after tools, past the end, or by a rehearsed failure', () => {
    const plans = [
      [{ tool: 'feed_read' }, { answer: 'Read {{feed_read.items}} ({{last}})' }],
      [{ tool: 'feed_read', answer: 'Read {{feed_read}}' }],
      [{ delay: 0.1, fail: 'rehearsed outage' }],
    ];
    for (const script of plans) {
      const checked = checkAgentDefinition(
        {
          agent_id: 'fine',
          interval: 60,
          tools: ['feed_read'],
          model_config: { provider: 'scripted', script },
          task_config: { query: 'digest' },
        },
        { tools: TOOLS, env: {} },
      );
      expect(checked.fields).toEqual([]);
    }
  });

  describe('in a Nightshift file', () => {
    const directories: string[] = [];
    afterEach(() => {
      for (const directory of directories.splice(0)) {
        rmSync(directory, { recursive: true, force: true });
      }
    });

    function write(text: string): string {
      const directory = mkdtempSync(join(tmpdir(), 'nightshift-one-pass-'));
      directories.push(directory);
      const path = join(directory, 'nightshift.yaml');
      writeFileSync(path, text);
      return path;
    }

    it('reports the file, schedule, tool, key, provider, plan and MCP problems together', () => {
      const path = write(
        [
          'memory: { backend: in_memory }',
          'events: { backend: in_memory }',
          'webhook: { ops: "https://hooks.example/ops" }',
          'agents:',
          '  - agent_id: digest',
          '    intervall: 60',
          '    cron: "0 9 * * *"',
          '    run_at: "2030-01-01T09:00:00Z"',
          '    model_config: { provider: opnai, model: gpt-4o-mini }',
          '    tools: [feed_read, system_stat, notfy]',
          '    mcp_tools:',
          '      - name: tracker',
          '        transport_type: sse',
          '        headers: { Authorization: "Bearer ${TRACKER_TOKEN_UNSET}" }',
          '  - agent_id: rehearsal',
          '    interval: 300',
          '    model_config: { provider: scripted, script: [{ delay: 1 }] }',
          '    task_config: { query: check }',
        ].join('\n'),
      );
      let refusal: unknown;
      try {
        loadNightshiftFile(path, { env: {}, tools: TOOLS });
      } catch (error) {
        refusal = error;
      }
      expect(NightshiftError.isInstance(refusal)).toBe(true);
      const fields = (refusal as NightshiftError).fields ?? [];
      expect(byPath(fields)).toEqual({
        webhook: 'unknown field; did you mean "webhooks"?',
        'agents[0].task_config': 'required',
        'agents[0].intervall': 'unknown field; did you mean "interval"?',
        'agents[0].run_at': 'only one of interval, cron or run_at may be set (got cron, run_at)',
        'agents[0].model_config.provider': expect.stringContaining('did you mean "openai"?'),
        'agents[0].tools[1]': expect.stringContaining('did you mean "system_stats"?'),
        'agents[0].tools[2]': expect.stringContaining(
          'did you mean "notify"? (notify needs a top-level webhooks: { name: url } block)',
        ),
        'agents[0].mcp_tools[0].url': 'required for the sse transport',
        'agents[0].mcp_tools[0].headers.Authorization':
          expect.stringContaining('TRACKER_TOKEN_UNSET'),
        'agents[1].model_config.script[0]': expect.stringContaining('without an answer'),
      });
    });
  });
});

describe('the edit distance behind "did you mean"', () => {
  it('counts insertions, deletions, substitutions and swapped neighbours as one edit each', () => {
    expect(
      [
        ['intervall', 'interval'],
        ['opnai', 'openai'],
        ['tmie', 'time'],
        ['kitten', 'sitting'],
        ['', 'abc'],
      ].map(([first = '', second = '']) => editDistance(first, second)),
    ).toEqual([1, 1, 1, 3, 3]);
  });

  it('suggests only names close for their length', () => {
    expect(closestName('system_stat', TOOLS)).toBe('system_stats');
    expect(closestName('Interval', ['interval', 'cron'])).toBe('interval');
    expect(closestName('tls', ['host', 'port', 'token'])).toBeUndefined();
    expect(closestName('colour', ['cron', 'tools'])).toBeUndefined();
  });
});
