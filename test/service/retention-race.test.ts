import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RetentionStats } from '../../src/index.js';
import { createSqliteEventLog, createSqliteStore } from '../../src/storage/index.js';
import { agentRecord, minute, runRecord, step } from '../storage/contracts/fixtures.js';
import { temporaryDatabase } from './service-fixtures.js';

/** What one racing manager printed. */
interface RaceResult {
  stats: RetentionStats;
  errors: string[];
}

const RUNS = 120;
const EVENTS = 150;
const MESSAGES = 90;
const KEEP = 10;

describe('retention across processes', () => {
  it('two managers sweeping one SQLite file at once remove each item once and fail nowhere', async () => {
    const url = temporaryDatabase();
    const path = url.slice('sqlite:'.length);
    // Long ago (2024): ended runs with steps, unfinished runs, events and a long conversation.
    const store = createSqliteStore({ path });
    await store.agents.insert(agentRecord('alpha'));
    for (let index = 0; index < RUNS; index += 1) {
      const run = runRecord('alpha', minute(index), {
        status: index % 3 === 0 ? 'failed' : 'completed',
        started_at: minute(index),
        ended_at: minute(index + 1),
      });
      await store.runs.claim(run);
      await store.runs.appendStep(step(run.run_id, 0));
    }
    const unfinished = (
      ['pending', 'running', 'awaiting_budget', 'awaiting_approval'] as const
    ).map((status, index) => runRecord('alpha', minute(RUNS + index), { status }));
    for (const run of unfinished) await store.runs.claim(run);
    await store.messages.append(
      'alpha',
      Array.from({ length: MESSAGES }, (_, index) => ({ role: 'user', content: `m${index}` })),
    );
    await store.close();
    const log = createSqliteEventLog({ path });
    for (let index = 0; index < EVENTS; index += 1) {
      await log.append({
        type: 'agent_message',
        agent_id: 'alpha',
        run_id: null,
        timestamp: minute(index),
        payload: { message: `e${index}` },
      });
    }
    await log.close();

    const start = Date.now() + 3_000;
    const race = async (): Promise<RaceResult> => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', resolve(import.meta.dirname, 'retention-race-process.ts')],
        {
          env: {
            ...process.env,
            NIGHTSHIFT_RACE_URL: url,
            NIGHTSHIFT_RACE_START: String(start),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      let errors = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, errors).toBe(0);
      return JSON.parse(output) as RaceResult;
    };
    const results = await Promise.all([race(), race()]);

    for (const result of results) {
      expect(result.errors).toEqual([]);
      expect(result.stats.failures).toBe(0);
    }
    const removed = (kind: 'runs' | 'events' | 'messages') =>
      results.reduce((sum, result) => sum + result.stats.removed[kind], 0);
    expect(removed('runs')).toBe(RUNS);
    expect(removed('messages')).toBe(MESSAGES - KEEP);
    // The managers' own status events are recent: only the seeded ones were old enough.
    expect(removed('events')).toBe(EVENTS);

    const after = createSqliteStore({ path });
    try {
      expect(
        (await after.runs.list('alpha', { limit: 1_000 })).map((run) => run.run_id).sort(),
      ).toEqual(unfinished.map((run) => run.run_id).sort());
      expect(await after.messages.list('alpha')).toHaveLength(KEEP);
      expect(await after.runs.listSteps(runRecord('alpha', minute(0)).run_id)).toEqual([]);
    } finally {
      await after.close();
    }
  }, 60_000);
});
