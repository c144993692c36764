/** `POST /api/runs/:run_id/deny-budget`: a person ends a run waiting for a budget, once. */
import { describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { onCleanup, scriptedAgent, startTestServer } from './server-fixtures.js';

describe('denying a waiting run more budget over the API', () => {
  it('ends it budget_exceeded, names a missing field, and answers 409 to the second decision', async () => {
    const service = new BackgroundAgentService(
      new MemoryRouter('in_memory'),
      new EventRouter('in_memory'),
    );
    await service.startManager();
    onCleanup(() => service.shutdown({ timeout: 1000 }));
    const { api } = await startTestServer({}, service);
    // One request a day, and a run that needs two: it waits at its second.
    await service.create(
      scriptedAgent('archiver', {
        model_config: {
          provider: 'scripted',
          script: [{ tool: 'system_stats' }, { answer: 'archived' }],
        },
        tools: ['system_stats'],
        budget_config: { per_day: { requests: 1 }, on_exhausted: 'wait' },
      }),
    );
    const waiting = await service.runNow('archiver', { wait: true });
    expect(waiting.status).toBe('awaiting_budget');
    const path = `/api/runs/${encodeURIComponent(waiting.run_id)}/deny-budget`;

    const missing = await api('POST', path, { by: 'alice' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({
      code: 'config_invalid',
      fields: [expect.objectContaining({ path: 'note' })],
    });
    expect((await service.getRun(waiting.run_id)).status).toBe('awaiting_budget');

    const denied = await api('POST', path, { by: 'alice', note: 'the archive can wait' });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({
      run_id: waiting.run_id,
      status: 'budget_exceeded',
      error: { code: 'budget.agent.per_day.requests' },
    });
    expect(denied.body.error.message).toMatch(/denied by alice: the archive can wait$/);

    const again = await api('POST', path, { by: 'bob', note: 'me too' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_state');
    expect((await api('POST', '/api/runs/nope/deny-budget', { by: 'a', note: 'b' })).status).toBe(
      404,
    );
  });
});
