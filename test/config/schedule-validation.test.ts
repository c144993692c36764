import { describe, expect, it } from 'vitest';
import { MAX_TIMER_SECONDS } from '../../src/config/agent-definition.js';
import { checkAgentDefinition } from '../../src/config/parse-agent-definition.js';

const base = {
  agent_id: 'a',
  model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
  task_config: { query: 'q' },
};

/** The field errors of a definition, by path. */
function problems(overrides: Record<string, unknown>): Record<string, string> {
  const { fields } = checkAgentDefinition({ ...base, ...overrides }, { env: {} });
  return Object.fromEntries(fields.map((field) => [field.path, field.message]));
}

describe('validation accepts exactly what the scheduler can run', () => {
  it.each([
    [{ interval: 0.0001 }, 'interval', 'at least 0.001'],
    [{ interval: 1e308 }, 'interval', 'at most'],
    [{ run_at: '1' }, 'run_at', 'ISO 8601'],
    [{ run_at: 'March 7, 2030' }, 'run_at', 'ISO 8601'],
    [{ run_at: '2030-02-30T00:00:00Z' }, 'run_at', 'ISO 8601'],
    [{ interval: 60, start_at: '1' }, 'start_at', 'ISO 8601'],
    [{ interval: 60, end_at: 'March 7, 2030' }, 'end_at', 'ISO 8601'],
    [
      { interval: 60, start_at: '2030-01-02T00:00:00Z', end_at: '2030-01-01T00:00:00Z' },
      'end_at',
      'after start_at',
    ],
  ])('refuses %j, naming %s', (overrides, path, message) => {
    expect(problems(overrides)[path]).toContain(message);
  });

  it.each([
    ['task_config.timeout', { interval: 60, task_config: { query: 'q', timeout: 3e6 } }],
    ['task_config.retry_delay', { interval: 60, task_config: { query: 'q', retry_delay: 1e10 } }],
    [
      'task_config.max_retry_delay',
      { interval: 60, task_config: { query: 'q', max_retry_delay: 1e9 } },
    ],
    [
      'agent_config.tool_call_timeout',
      { interval: 60, agent_config: { tool_call_timeout: MAX_TIMER_SECONDS + 1 } },
    ],
    ['jitter', { interval: 60, jitter: 1e12 }],
  ])('refuses a duration no timer can wait for: %s', (path, overrides) => {
    expect(problems(overrides)[path]).toContain('24.8 days');
  });

  it('accepts the edges the scheduler can run', () => {
    expect(problems({ interval: 0.001 })).toEqual({});
    expect(problems({ interval: 86_400 * 365 })).toEqual({});
    expect(problems({ run_at: '2030-03-07T09:00:00Z' })).toEqual({});
    expect(problems({ run_at: '2030-03-07T09:00:00+02:00' })).toEqual({});
    expect(
      problems({ interval: 60, task_config: { query: 'q', timeout: MAX_TIMER_SECONDS } }),
    ).toEqual({});
  });
});
