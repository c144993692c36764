import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { parseAgentDefinition } from '../../src/config/parse-agent-definition.js';
import { NightshiftError } from '../../src/errors.js';

const valid = {
  agent_id: 'system_monitor',
  model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
  interval: 300,
  task_config: { query: 'Check local CPU and Memory usage.' },
};

function refusal(
  input: unknown,
  context: Parameters<typeof parseAgentDefinition>[1] = { env: {} },
): NightshiftError {
  try {
    parseAgentDefinition(input, context);
  } catch (error) {
    if (NightshiftError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the definition to be refused');
}

function paths(error: NightshiftError): Record<string, string> {
  return Object.fromEntries(error.fields.map((field) => [field.path, field.message]));
}

describe('agent definitions', () => {
  it('accepts the seed shape and fills in the documented defaults', () => {
    const definition = parseAgentDefinition(valid);
    expect(definition.task_config).toMatchObject({
      max_retries: 0,
      timeout: DEFAULTS.task_config.timeout,
      session_policy: 'agent',
    });
    expect(definition.agent_config).toEqual({
      ...DEFAULTS.agent_config,
      memory_config: { ...DEFAULTS.agent_config.memory_config },
    });
    expect(definition.overlap_policy).toBe('skip');
    expect(definition.run_immediately).toBe(false);
  });

  it('does not mutate the caller’s object', () => {
    const input = structuredClone(valid);
    parseAgentDefinition(input);
    expect(input).toEqual(valid);
  });

  it('names every bad field by path in one config_invalid error', () => {
    const error = refusal({
      agent_id: 'bad id!',
      model_config: { provider: 'x' },
      interval: 0,
      task_config: {},
    });
    expect(error.code).toBe('config_invalid');
    expect(paths(error)).toMatchObject({
      agent_id: expect.stringContaining('letters, digits'),
      interval: 'must be at least 0.001 seconds',
      'task_config.query': 'required',
      'model_config.provider': expect.stringContaining('unknown provider "x"'),
    });
    expect(error.message).toContain('task_config.query: required');
  });

  it.each([
    [{ interval: undefined }, 'interval', 'one of interval, cron or run_at is required'],
    [{ cron: '* * * * *' }, 'cron', 'only one of'],
    [{ interval: undefined, cron: '* *' }, 'cron', 'must have 5 fields'],
    [{ interval: undefined, cron: '99 * * * *' }, 'cron', 'not a valid cron pattern'],
    [{ interval: undefined, cron: '0 9 * * *', timezone: 'Mars/Olympus' }, 'timezone', 'IANA'],
    [{ timezone: 'Europe/Paris' }, 'timezone', 'only applies with cron'],
    [{ interval: undefined, run_at: 'tomorrow' }, 'run_at', 'ISO 8601'],
    [
      { start_at: '2026-01-02T00:00:00Z', end_at: '2026-01-01T00:00:00Z' },
      'end_at',
      'after start_at',
    ],
    [{ interval: 'often' }, 'interval', 'number of seconds'],
    [{ max_runs: 0 }, 'max_runs', ''],
    [{ overlap_policy: 'sometimes' }, 'overlap_policy', ''],
    [{ misfire_policy: 'panic' }, 'misfire_policy', ''],
    [{ task_config: { query: '' } }, 'task_config.query', 'must not be empty'],
    [{ task_config: { query: 'q', max_retries: -1 } }, 'task_config.max_retries', ''],
    [{ task_config: { query: 'q', timeout: 0 } }, 'task_config.timeout', 'greater than 0'],
    [{ task_config: { query: 'q', session_policy: 'never' } }, 'task_config.session_policy', ''],
    [{ agent_config: { max_steps: 0 } }, 'agent_config.max_steps', ''],
    [
      { agent_config: { tool_call_timeout: -1 } },
      'agent_config.tool_call_timeout',
      'greater than 0',
    ],
    [
      { agent_config: { memory_config: { mode: 'forever', value: 1 } } },
      'agent_config.memory_config.mode',
      '',
    ],
    [
      { model_config: { provider: 'scripted' } },
      'model_config.script',
      'required for the scripted provider',
    ],
    [
      { model_config: { provider: 'openai_compatible', model: 'm' } },
      'model_config.base_url',
      'required',
    ],
    [{ intervall: 5 }, 'intervall', 'unknown field; did you mean "interval"?'],
    [
      { task_config: { query: 'q', timout: 3 } },
      'task_config.timout',
      'unknown field; did you mean "timeout"?',
    ],
    [
      { mcp_tools: [{ name: 'github', comand: 'github-mcp' }] },
      'mcp_tools[0].comand',
      'unknown field; did you mean "command"?',
    ],
    [{ agent_id: undefined }, 'agent_id', 'required'],
  ])('refuses %j at %s', (patch, path, message) => {
    const error = refusal({ ...valid, ...patch });
    expect(error.code).toBe('config_invalid');
    expect(paths(error)[path]).toContain(message);
  });

  it('refuses a hosted provider whose API key is not set, naming the variable', () => {
    const error = refusal(
      { ...valid, model_config: { provider: 'openai', model: 'gpt-4o-mini' } },
      { env: {} },
    );
    expect(paths(error)['model_config.api_key_env']).toContain('OPENAI_API_KEY');
    expect(() =>
      parseAgentDefinition(
        { ...valid, model_config: { provider: 'openai', model: 'gpt-4o-mini' } },
        { env: { OPENAI_API_KEY: 'k' } },
      ),
    ).not.toThrow();
    const custom = refusal(
      { ...valid, model_config: { provider: 'ollama', model: 'llama', api_key_env: 'OLLAMA_KEY' } },
      { env: {} },
    );
    expect(paths(custom)['model_config.api_key_env']).toContain('OLLAMA_KEY');
    expect(() =>
      parseAgentDefinition(
        { ...valid, model_config: { provider: 'ollama', model: 'llama' } },
        { env: {} },
      ),
    ).not.toThrow();
  });

  it('refuses unknown tools and accepts registered providers', () => {
    const error = refusal(
      { ...valid, tools: ['system_stats', 'teleport'] },
      { tools: ['system_stats'], env: {} },
    );
    expect(paths(error)).toEqual({
      'tools[1]': expect.stringContaining('unknown tool "teleport"'),
    });
    expect(() =>
      parseAgentDefinition(
        { ...valid, model_config: { provider: 'house', model: 'm' } },
        { providers: ['house'] },
      ),
    ).not.toThrow();
  });

  it('prefixes paths for definitions inside a file', () => {
    const error = refusal({ ...valid, interval: -1 }, { path: ['agents', 2], env: {} });
    expect(paths(error)).toHaveProperty(['agents[2].interval']);
  });
});
