import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNightshiftFile } from '../../src/config/load-config-file.js';
import { parseAgentDefinition } from '../../src/config/parse-agent-definition.js';
import { effectiveRetention } from '../../src/config/retention.js';
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

const agent = (overrides: Record<string, unknown>) => ({
  agent_id: 'keeper',
  interval: 60,
  model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
  task_config: { query: 'Work.' },
  ...overrides,
});

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function writeFile(content: unknown): string {
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-retention-'));
  directories.push(directory);
  const path = join(directory, 'nightshift.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('retention settings', () => {
  it('takes an agent’s retention and refuses bad fields by path', () => {
    const parsed = parseAgentDefinition(
      agent({ retention: { runs_days: 7, events_days: 0.5, messages_per_session: 200 } }),
    );
    expect(parsed.retention).toEqual({ runs_days: 7, events_days: 0.5, messages_per_session: 200 });
    expect(parseAgentDefinition(agent({})).retention).toBeUndefined();
    expect(
      refusedFields(() =>
        parseAgentDefinition(
          agent({ retention: { runs_days: 0, messages_per_session: 2.5, event_days: 3 } }),
        ),
      ),
    ).toEqual({
      'retention.runs_days': 'must be greater than 0',
      'retention.messages_per_session': 'must be a whole number',
      'retention.event_days': expect.stringContaining('unknown field'),
    });
  });

  it('reads the file’s retention: block as the fleet’s defaults, an agent’s own fields winning', () => {
    const file = loadNightshiftFile(
      writeFile({
        memory: { backend: 'in_memory' },
        events: { backend: 'in_memory' },
        retention: { runs_days: 30, events_days: 14, messages_per_session: 100 },
        agents: [agent({ retention: { runs_days: 365 } })],
      }),
    );
    expect(file.retention).toEqual({ runs_days: 30, events_days: 14, messages_per_session: 100 });
    expect(effectiveRetention(file.agents[0]?.retention, file.retention)).toEqual({
      runs_days: 365,
      events_days: 14,
      messages_per_session: 100,
    });
    const bare = loadNightshiftFile(writeFile({ memory: { backend: 'in_memory' }, agents: [] }));
    expect(bare.retention).toEqual({});
    expect(
      refusedFields(() =>
        loadNightshiftFile(writeFile({ retention: { events_days: 'forever' }, agents: [] })),
      ),
    ).toEqual({ 'retention.events_days': 'must be a number of days' });
  });
});
