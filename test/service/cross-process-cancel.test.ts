import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { gatedModel } from './gated-model.js';
import {
  collectEvents,
  makeService,
  temporaryDatabase,
  testAgent,
  testProvider,
} from './service-fixtures.js';

describe('stopAgent({ cancel: true }) across processes', () => {
  it('cancels a run that another process holds: on the record at once, aborted where it runs', async () => {
    const url = temporaryDatabase();
    let answered = false;
    const gate = gatedModel(() => {
      answered = true;
      return { text: 'finished anyway' };
    });
    // Two services on one SQLite file, each with its own connection: two processes as the store sees them.
    const worker = makeService({ url, leaseTtlMs: 600, providers: testProvider(gate.model) });
    await worker.startManager();
    await worker.create(testAgent('long_task'));
    // Resolves when the run has ended in the worker, whatever ended it.
    const endedInWorker = worker.runNow('long_task', { wait: true });
    await waitFor(() => gate.waiting === 1, { what: 'the model call in flight' });
    const [started] = await worker.listRuns('long_task');
    if (!started) throw new Error('no run recorded');
    expect(started.status).toBe('running');

    const operator = makeService({ url });
    const events = collectEvents(operator);
    const status = await operator.stopAgent('long_task', { cancel: true });
    expect(status.state).toBe('stopped');
    const cancelled = await operator.getRun(started.run_id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error).toEqual({ code: 'cancelled', message: 'cancelled by stopAgent' });
    await waitFor(() =>
      events.some(
        (event) =>
          event.type === 'background_task_error' &&
          event.run_id === started.run_id &&
          event.payload.status === 'cancelled',
      ),
    );

    // The holder notices at its next heartbeat and aborts the model call, still at the gate.
    await endedInWorker;
    expect(answered).toBe(false);
    // It wrote nothing over the cancellation, and the run counts once.
    const final = await worker.getRun(started.run_id);
    expect(final.status).toBe('cancelled');
    expect(final.ended_at).toBe(cancelled.ended_at);
    const agent = await worker.getAgentStatus('long_task');
    expect(agent.last_run_status).toBe('cancelled');
    expect(agent.run_count).toBe(1);
  }, 20_000);
});
