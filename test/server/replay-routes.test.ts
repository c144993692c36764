/**
 * `POST /api/runs/:run_id/replay` and `GET /api/runs/:run_id/replay-diff`: a replay of an ended
 * run over HTTP, the refusals (unknown run, a run not ended, a bad option), and the diff, both
 * held against the OpenAPI document the server serves.
 */
import { describe, expect, it } from 'vitest';
import { schemaProblems, type Schema } from './json-schema-check.js';
import { scriptedAgent, startTestServer, type TestServer } from './server-fixtures.js';
import { waitFor } from '../helpers/wait-for.js';

/** An agent that calls `system_stats` and answers: a run with a model call, a tool call, an answer. */
const checker = scriptedAgent('checker', {
  model_config: {
    provider: 'scripted',
    script: [{ tool: 'system_stats' }, { answer: 'the disk is fine' }],
  },
  tools: ['system_stats'],
});

async function endedRun(server: TestServer): Promise<string> {
  await server.service.create(checker);
  const run = await server.service.runNow('checker', { wait: true });
  expect(run.status).toBe('completed');
  return run.run_id;
}

async function document(server: TestServer) {
  return (await (await fetch(`${server.url}/openapi.json`)).json()) as {
    components: { schemas: Record<string, Schema> };
  };
}

const replayPath = (runId: string) => `/api/runs/${encodeURIComponent(runId)}/replay`;
const diffPath = (runId: string) => `/api/runs/${encodeURIComponent(runId)}/replay-diff`;

describe('replaying a run over the API', () => {
  it('answers 201 with the replay, and the diff shows no divergence', async () => {
    const server = await startTestServer();
    const runId = await endedRun(server);

    const answer = await server.api('POST', replayPath(runId), { wait: true });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      trigger: 'replay',
      replay_of: runId,
      replay_mode: { model: 'recorded', tools: 'recorded' },
      status: 'completed',
      output: 'the disk is fine',
    });
    const spec = await document(server);
    expect(schemaProblems(answer.body, { $ref: '#/components/schemas/RunRecord' }, spec)).toEqual(
      [],
    );

    const diff = await server.api('GET', diffPath(answer.body.run_id));
    expect(diff.status).toBe(200);
    expect(diff.body).toMatchObject({
      original_run_id: runId,
      replay_run_id: answer.body.run_id,
      mode: { model: 'recorded', tools: 'recorded' },
      status: { original: 'completed', replay: 'completed' },
      first_divergence: null,
      answer: { original: 'the disk is fine', replay: 'the disk is fine', same: true },
    });
    expect(
      diff.body.steps.map((row: { kind: string; same: boolean }) => [row.kind, row.same]),
    ).toEqual([
      ['model_call', true],
      ['tool_call', true],
      ['model_call', true],
    ]);
    expect(schemaProblems(diff.body, { $ref: '#/components/schemas/ReplayDiff' }, spec)).toEqual(
      [],
    );
  });

  it('starts a replay without a body, with both sources recorded, and answers at once', async () => {
    const server = await startTestServer();
    const runId = await endedRun(server);
    const answer = await server.api('POST', replayPath(runId));
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ trigger: 'replay', replay_of: runId });
    const replayId = answer.body.run_id as string;
    // It goes on in the background: it ends, and stays a replay of the original.
    await waitFor(
      async () => ['completed'].includes((await server.service.getRun(replayId)).status),
      { timeoutMs: 5000 },
    );
    expect(
      (await server.api('GET', `/api/runs/${encodeURIComponent(replayId)}`)).body,
    ).toMatchObject({ replay_of: runId, replay_mode: { model: 'recorded', tools: 'recorded' } });
  });

  it('answers 404 for an unknown run, on both routes', async () => {
    const server = await startTestServer();
    const replay = await server.api('POST', replayPath('nope'), {});
    expect(replay.status).toBe(404);
    expect(replay.body.error.code).toBe('run_not_found');
    const diff = await server.api('GET', diffPath('nope'));
    expect(diff.status).toBe(404);
    expect(diff.body.error.code).toBe('run_not_found');
  });

  it('answers 409 for a run that has not ended, and for the diff of a run that is not a replay', async () => {
    const server = await startTestServer();
    // One request a day, and a run that needs two: it waits at its second, not ended.
    await server.service.create(
      scriptedAgent('waiter', {
        model_config: {
          provider: 'scripted',
          script: [{ tool: 'system_stats' }, { answer: 'done' }],
        },
        tools: ['system_stats'],
        budget_config: { per_day: { requests: 1 }, on_exhausted: 'wait' },
      }),
    );
    const waiting = await server.service.runNow('waiter', { wait: true });
    expect(waiting.status).toBe('awaiting_budget');
    const refused = await server.api('POST', replayPath(waiting.run_id), {});
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('invalid_state');
    expect(refused.body.error.message).toMatch(/awaiting_budget/);

    const runId = await endedRun(server);
    const notReplay = await server.api('GET', diffPath(runId));
    expect(notReplay.status).toBe(409);
    expect(notReplay.body.error).toMatchObject({ code: 'invalid_state' });
    expect(notReplay.body.error.message).toMatch(/not a replay/);
  });

  it('answers 400 naming a bad option, and an unknown one', async () => {
    const server = await startTestServer();
    const runId = await endedRun(server);
    const bad = await server.api('POST', replayPath(runId), { model: 'fresh' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'config_invalid',
      fields: [expect.objectContaining({ path: 'model' })],
    });
    const wait = await server.api('POST', replayPath(runId), { tools: 'live', wait: 'yes' });
    expect(wait.status).toBe(400);
    expect(wait.body.error.fields).toEqual([expect.objectContaining({ path: 'wait' })]);
    const unknown = await server.api('POST', replayPath(runId), { modle: 'live' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body.error.fields)).toMatch(/modle/);
    // Nothing was replayed.
    const runs = await server.service.listRuns('checker');
    expect(runs.filter((run) => run.trigger === 'replay')).toEqual([]);
  });

  it('needs the token, like every other route of the API', async () => {
    const server = await startTestServer();
    const runId = await endedRun(server);
    const answer = await server.api('POST', replayPath(runId), {}, { Authorization: '' });
    expect(answer.status).toBe(401);
    expect(
      (await server.api('GET', diffPath(runId), undefined, { Authorization: '' })).status,
    ).toBe(401);
  });
});
