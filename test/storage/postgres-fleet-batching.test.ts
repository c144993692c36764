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

  it('appends to and reads the conversations of runs going at once in one statement each', async () => {
    const sessions = runIds.map((runId) => `session-${runId}`);
    const message = (text: string) => ({ role: 'user' as const, content: text });
    await store.messages.append(sessions[0]!, [message('earlier')]);
    const appended = await recorder.statementsOf(() =>
      Promise.all(
        sessions.map((session) =>
          store.messages.append(session, [message(`${session} 1`), message(`${session} 2`)]),
        ),
      ),
    );
    expect(appended.statements).toHaveLength(1);
    const read = await recorder.statementsOf(() =>
      Promise.all([
        store.messages.list(sessions[0]!),
        store.messages.list(sessions[0]!, { limit: 2 }),
        store.messages.list(sessions[1]!, { limit: 1 }),
        store.messages.list('nobody'),
      ]),
    );
    expect(read.statements).toHaveLength(1);
    const contents = read.result.map((list) => list.map((each) => each.content));
    expect(contents).toEqual([
      ['earlier', `${sessions[0]} 1`, `${sessions[0]} 2`],
      [`${sessions[0]} 1`, `${sessions[0]} 2`],
      [`${sessions[1]} 2`],
      [],
    ]);
    expect(read.result[0][1]).not.toBe(read.result[1][0]);
    // A message the database refuses fails its own append alone, which adds none of its messages.
    const outcomes = await Promise.allSettled([
      store.messages.append(sessions[2]!, [message('kept')]),
      store.messages.append(sessions[3]!, [message('fine'), message('bad\u0000text')]),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected']);
    expect((await other.messages.list(sessions[3]!)).map((each) => each.content)).toEqual([
      `${sessions[3]} 1`,
      `${sessions[3]} 2`,
    ]);
    expect((await other.messages.list(sessions[2]!)).at(-1)?.content).toBe('kept');
  });

  it('reads runs asked for together in one statement', async () => {
    await other.runs.update(runIds[1]!, { status: 'running' });
    const { result, statements } = await recorder.statementsOf(() =>
      Promise.all([...runIds.map((runId) => store.runs.get(runId)), store.runs.get('nobody@x')]),
    );
    expect(statements).toHaveLength(1);
    expect(result.map((run) => run?.run_id)).toEqual([...runIds, undefined]);
    expect(result[1]?.status).toBe('running');
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
