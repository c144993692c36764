import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NightshiftError } from '../../src/errors.js';
import type { Store } from '../../src/storage/index.js';
import { createPostgresStore } from '../../src/storage/postgres/index.js';
import { agentRecord, minute, runRecord, step } from './contracts/fixtures.js';
import {
  postgresTestUrl,
  postgresUnavailableReason,
  recordStatements,
  uniqueName,
  type StatementRecorder,
} from './postgres-server.js';

const url = postgresTestUrl();
// postgres.test.ts reports a missing server (and fails CI for it); these only need one.
const describePostgres =
  (await postgresUnavailableReason(url)) === undefined ? describe : describe.skip;

const admin = new pg.Pool({ connectionString: url, max: 1 });
admin.on('error', () => undefined);

const RUNS = 20;

describePostgres('postgres writes and reads of many runs at once: one statement a batch', () => {
  let recorder: StatementRecorder;
  let schema: string;
  let store: Store;
  let other: Store;
  const runIds = Array.from({ length: RUNS }, (_, index) => `alpha@${minute(index)}`);

  beforeAll(() => {
    recorder = recordStatements();
  });
  afterAll(async () => {
    recorder.restore();
    await admin.end();
  });

  beforeEach(async () => {
    schema = uniqueName('nightshift_test');
    store = createPostgresStore({ url, namespace: schema });
    other = createPostgresStore({ url, namespace: schema });
    await store.agents.insert(agentRecord('alpha'));
    for (let index = 0; index < RUNS; index += 1)
      await store.runs.claim(runRecord('alpha', minute(index)));
  });
  afterEach(async () => {
    await Promise.all([store.close(), other.close()]);
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  });

  it('appends and updates the steps of runs written together in one statement each', async () => {
    const appended = await recorder.statementsOf(() =>
      Promise.all(runIds.map((runId) => store.runs.appendStep(step(runId, 1)))),
    );
    expect(appended.statements).toHaveLength(1);
    const updated = await recorder.statementsOf(() =>
      Promise.all(
        runIds.map((runId) =>
          store.runs.updateStep(runId, '1.1', { state: 'completed', result: runId }),
        ),
      ),
    );
    expect(updated.statements).toHaveLength(1);
    // Each run has its own step, as written, in order after a second one.
    await Promise.all(runIds.map((runId) => store.runs.appendStep(step(runId, 2))));
    for (const runId of runIds) {
      const steps = await other.runs.listSteps(runId);
      expect(steps.map((each) => [each.step_id, each.state])).toEqual([
        ['1.1', 'completed'],
        ['1.2', 'started'],
      ]);
      expect(steps[0]?.result).toBe(runId);
    }
  });

  it('refuses, in a batch, only the step whose id is recorded, and the second of two alike', async () => {
    await store.runs.appendStep(step(runIds[0]!, 1));
    const outcomes = await Promise.allSettled([
      store.runs.appendStep(step(runIds[0]!, 1, { tool_name: 'again' })),
      store.runs.appendStep(step(runIds[1]!, 1)),
      store.runs.appendStep(step(runIds[2]!, 1)),
      store.runs.appendStep(step(runIds[2]!, 1, { tool_name: 'twice' })),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'rejected',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    for (const outcome of outcomes)
      if (outcome.status === 'rejected')
        expect(NightshiftError.isInstance(outcome.reason) && outcome.reason.code).toBe(
          'invalid_state',
        );
    expect((await store.runs.listSteps(runIds[0]!))[0]?.tool_name).toBe('disk_usage');
    expect((await store.runs.listSteps(runIds[2]!)).map((each) => each.tool_name)).toEqual([
      'disk_usage',
    ]);
  });

  it('keeps every change when updates of one step, and another store’s, meet in a batch', async () => {
    const runId = runIds[0]!;
    await store.runs.appendStep(step(runId, 1));
    // Another process changes the step: this store's known version is stale.
    await other.runs.updateStep(runId, '1.1', { usage: { input_tokens: 5 } as never });
    await Promise.all([
      store.runs.updateStep(runId, '1.1', { state: 'completed' }),
      store.runs.updateStep(runId, '1.1', { result: 'kept' }),
      store.runs.updateStep(runIds[1]!, '1.1', { result: 'absent' }),
    ]);
    const [stored] = await other.runs.listSteps(runId);
    expect(stored).toMatchObject({
      state: 'completed',
      result: 'kept',
      usage: { input_tokens: 5 },
    });
    expect(await store.runs.listSteps(runIds[1]!)).toEqual([]);
  });

  it('reads agents asked for together in one statement, each its own copy, fresh', async () => {
    await store.agents.insert(agentRecord('bravo'));
    await other.agents.update('alpha', { state: 'paused', pause_reason: 'by hand' });
    const { result, statements } = await recorder.statementsOf(() =>
      Promise.all([
        store.agents.get('alpha'),
        store.agents.get('bravo'),
        store.agents.get('alpha'),
        store.agents.get('nobody'),
      ]),
    );
    expect(statements).toHaveLength(1);
    const [alpha, bravo, again, nobody] = result;
    expect(alpha).toMatchObject({ agent_id: 'alpha', state: 'paused', pause_reason: 'by hand' });
    expect(bravo?.agent_id).toBe('bravo');
    expect(again).toEqual(alpha);
    expect(again).not.toBe(alpha);
    alpha!.definition.task_config.query = 'changed by one caller';
    expect(again!.definition.task_config.query).not.toBe('changed by one caller');
    expect(nobody).toBeUndefined();
    // A change this store then makes starts from what it read: one statement, no read.
    const paused = await recorder.statementsOf(() =>
      store.agents.updateStats('bravo', { skipped: 1 }),
    );
    expect(paused.statements).toHaveLength(1);
    expect(paused.result?.stats.skip_count).toBe(1);
  });

  it('fails only the step the database refuses when a batch carries it', async () => {
    const outcomes = await Promise.allSettled([
      store.runs.appendStep(step(runIds[0]!, 1)),
      // Postgres refuses a NUL character in JSON text.
      store.runs.appendStep(step(runIds[1]!, 1, { tool_name: 'bad\u0000name' })),
      store.runs.appendStep(step(runIds[2]!, 1)),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(await store.runs.listSteps(runIds[1]!)).toEqual([]);
    expect(await store.runs.listSteps(runIds[2]!)).toHaveLength(1);
  });
});
