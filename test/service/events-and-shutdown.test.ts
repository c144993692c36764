import { describe, expect, it } from 'vitest';
import type { NightshiftEvent } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { gatedModel } from './gated-model.js';
import {
  makeService,
  scriptedAgent,
  temporaryDatabase,
  testAgent,
  testProvider,
} from './service-fixtures.js';

async function take(
  iterator: AsyncIterator<NightshiftEvent>,
  count: number,
): Promise<NightshiftEvent[]> {
  const events: NightshiftEvent[] = [];
  while (events.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    events.push(next.value);
  }
  return events;
}

describe('streamAgentEvents', () => {
  it('can subscribe before the agent exists and sees its events live, in order', async () => {
    const service = makeService();
    await service.startManager();
    const stream = service.streamAgentEvents('later');
    const first = take(stream, 3);
    await service.create(scriptedAgent('other'));
    await service.create(scriptedAgent('later'));
    await service.runNow('later', { wait: true });
    const events = await first;
    expect(events.map((event) => event.type)).toEqual([
      'background_agent_status',
      'background_task_started',
      'user_message',
    ]);
    expect(events.every((event) => event.agent_id === 'later')).toBe(true);
    await stream.return?.();
  });

  it("replays history with since: '0' and resumes after an event id without gaps or repeats", async () => {
    const service = makeService();
    await service.startManager();
    await service.create(scriptedAgent('history'));
    await service.runNow('history', { wait: true });
    const all = await take(service.streamAgentEvents('history', { since: '0' }), 5);
    expect(all.map((event) => event.type)).toEqual([
      'background_agent_status',
      'background_task_started',
      'user_message',
      'final_answer',
      'background_task_completed',
    ]);
    const resumed = service.streamAgentEvents('history', { since: all[2]?.id ?? '' });
    const pending = take(resumed, 4);
    await service.runNow('history', { wait: true });
    const rest = await pending;
    expect(rest.map((event) => event.type)).toEqual([
      'final_answer',
      'background_task_completed',
      'background_task_started',
      'user_message',
    ]);
    const ids = [...all.slice(0, 3), ...rest].map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('ends at once when its signal aborts or return() is called, even while waiting', async () => {
    const service = makeService();
    const controller = new AbortController();
    const stream = service.streamAgentEvents('quiet', { signal: controller.signal });
    const waiting = stream.next();
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    const other = service.streamAgentEvents('quiet');
    const pending = other.next();
    await other.return?.();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});

describe('shutdown', () => {
  it('lets runs in flight finish within the timeout', async () => {
    const url = temporaryDatabase();
    const service = makeService({ url });
    await service.startManager();
    await service.create(
      scriptedAgent('finisher', {
        model_config: { provider: 'scripted', script: [{ delay: 0.1, answer: 'made it' }] },
      }),
    );
    const run = await service.runNow('finisher');
    expect(run.status).toBe('running');
    await service.shutdown({ timeout: 5000 });
    expect(await makeService({ url }).getRun(run.run_id)).toMatchObject({
      status: 'completed',
      output: 'made it',
    });
  });

  it('ends runs still in flight after the timeout as interrupted, on the record', async () => {
    const gate = gatedModel();
    const url = temporaryDatabase();
    const service = makeService({ url, providers: testProvider(gate.model) });
    await service.startManager();
    await service.create(testAgent('stuck'));
    const run = await service.runNow('stuck');
    await waitFor(() => gate.waiting === 1);
    await service.shutdown({ timeout: 50 });
    const after = makeService({ url });
    expect(await after.getRun(run.run_id)).toMatchObject({
      status: 'interrupted',
      error: { code: 'interrupted' },
    });
    expect(await after.getAgentStatus('stuck')).toMatchObject({
      error_count: 1,
      last_run_status: 'interrupted',
      is_running: false,
    });
    await expect(service.runNow('stuck')).rejects.toMatchObject({ code: 'shutting_down' });
  });
});
