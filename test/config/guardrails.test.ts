import { describe, expect, it } from 'vitest';
import {
  guardrailNameOf,
  guardrailPlacesOf,
  guardrailsOf,
  type GuardrailCheck,
} from '../../src/config/guardrails.js';
import { parseAgentDefinition } from '../../src/config/parse-agent-definition.js';
import { thrownError } from '../helpers/thrown-error.js';

function agent(guardrails: unknown) {
  return {
    agent_id: 'guarded',
    interval: 60,
    model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
    task_config: { query: 'Do it.' },
    agent_config: { guardrails },
  };
}

function fieldsOf(input: unknown): Record<string, string> {
  const error = thrownError(() => parseAgentDefinition(input));
  expect(error.code).toBe('config_invalid');
  return Object.fromEntries(error.fields.map((field) => [field.path, field.message]));
}

describe('agent_config.guardrails', () => {
  it('accepts each kind, with names and places derived when left out', () => {
    const definition = parseAgentDefinition(
      agent([
        { max_chars: 1000, action: 'redact' },
        { deny: ['sk-live-[A-Za-z0-9]+'], ignore_case: true, action: 'block' },
        { name: 'no_injection', injection: true, action: 'flag', where: ['tool_result', 'query'] },
        { function: 'no_pii', action: 'redact' },
      ]),
    );
    const checks = guardrailsOf(definition);
    expect(checks.map((check, index) => guardrailNameOf(check, index))).toEqual([
      'max_chars[0]',
      'deny[1]',
      'no_injection',
      'function[3]',
    ]);
    expect(checks.map((check) => guardrailPlacesOf(check))).toEqual([
      ['tool_result'],
      ['query', 'tool_result', 'tool_args', 'answer'],
      ['tool_result', 'query'],
      ['query', 'tool_result', 'tool_args', 'answer'],
    ]);
  });

  it('is optional: a definition without it has none', () => {
    const definition = parseAgentDefinition({ ...agent([]), agent_config: {} });
    expect(definition.agent_config.guardrails).toBeUndefined();
    expect(guardrailsOf(definition)).toEqual([]);
  });

  it('names a bad regular expression by its path', () => {
    const fields = fieldsOf(agent([{ deny: ['ok', '(unclosed'], action: 'block' }]));
    expect(fields['agent_config.guardrails[0].deny[1]']).toMatch(
      /must be a valid regular expression/,
    );
  });

  it('wants exactly one kind, a known action and known places', () => {
    const fields = fieldsOf(
      agent([
        { action: 'block' },
        { deny: ['x'], max_chars: 3, action: 'flag' },
        { injection: true, action: 'drop' },
        { injection: true, action: 'flag', where: ['everywhere'] },
        { injection: true, action: 'flag', ignore_case: true },
      ]),
    );
    expect(fields['agent_config.guardrails[0]']).toMatch(/must have one of max_chars, deny/);
    expect(fields['agent_config.guardrails[1].deny']).toMatch(/only one of/);
    expect(fields['agent_config.guardrails[2].action']).toBe('must be block, redact or flag');
    expect(fields['agent_config.guardrails[3].where[0]']).toMatch(/must be one of query/);
    expect(fields['agent_config.guardrails[4].ignore_case']).toBe('only applies to deny');
  });

  it('refuses duplicate names, given or derived', () => {
    const fields = fieldsOf(
      agent([
        { name: 'secrets', deny: ['a'], action: 'block' },
        { name: 'secrets', deny: ['b'], action: 'flag' },
      ]),
    );
    expect(fields['agent_config.guardrails[1].name']).toBe('duplicate guardrail name "secrets"');
  });

  it('refuses a function in the definition, saying how to give one', () => {
    const check = { name: 'mine', check: () => true, action: 'block' } as unknown as GuardrailCheck;
    const fields = fieldsOf(agent([check]));
    expect(fields['agent_config.guardrails[0].check']).toMatch(
      /a function cannot be part of an agent definition .*function: <name>/,
    );
  });
});
