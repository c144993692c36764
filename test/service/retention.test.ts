import { describe, expect, it } from 'vitest';
import { createSqliteStore, type Store } from '../../src/storage/index.js';
import { thrownError } from '../helpers/thrown-error.js';
import { waitFor } from '../helpers/wait-for.js';
import { gatedModel } from './gated-model.js';
import {
  makeService,
  onCleanup,
  scriptedAgent,
  temporaryDatabase,
  testAgent,
  testProvider,
} from './service-fixtures.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T09:00:00.000Z');

/** The store behind a `sqlite:` URL, opened beside the service to look at its messages. */
function openStore(url: string): Store {
  const store = createSqliteStore({ path: url.slice('sqlite:'.length) });
  onCleanup(() => store.close());
  return store;
}

describe('retention', () => {
  it('removes ended runs, events and messages past their limits by the injected clock, per agent over the fleet, and nothing else', async () => {
    const url = temporaryDatabase();
    let now = T0;
    const service = makeService({
      url,
      now: () => new Date(now),
      syncIntervalMs: 60_000,
      retention: { runs_days: 1, events_days: 2, messages_per_session: 4 },
    });
    await service.create(scriptedAgent('chatty'));
    // Its own retention keeps runs a month; events and messages follow the fleet's.
    await service.create(scriptedAgent('keeper', { retention: { runs_days: 30 } }));
    await service.startManager();
    for (let index = 0; index < 3; index += 1) await service.runNow('chatty', { wait: true });
    for (let index = 0; index < 2; index += 1) await service.runNow('keeper', { wait: true });
    const store = openStore(url);
    const chattyBefore = (await store.messages.list('chatty')).length;
    expect(chattyBefore).toBeGreaterThan(4);

    now = T0 + 3 * DAY;
    const fresh = await service.runNow('chatty', { wait: true });
    const oldChattyEvents = (await service.readEvents({ agent_id: 'chatty' })).filter(
      (event) => Date.parse(event.timestamp) < now - 2 * DAY,
    ).length;
    expect(oldChattyEvents).toBeGreaterThan(0);
    const messagesNow = (await store.messages.list('chatty')).length;

    const dryRun = await service.pruneNow({ dry_run: true });
    expect(dryRun.dry_run).toBe(true);
    expect(dryRun.agents.chatty).toEqual({
      runs: 3,
      events: oldChattyEvents,
      messages: messagesNow - 4,
    });
    expect(dryRun.agents.keeper?.runs ?? 0).toBe(0);
    expect(dryRun.agents.keeper?.events).toBeGreaterThan(0);
    expect(await service.listRuns('chatty')).toHaveLength(4);

    const pruned = await service.pruneNow();
    expect(pruned.totals).toEqual(dryRun.totals);
    expect(pruned.agents).toEqual(dryRun.agents);
    expect((await service.listRuns('chatty')).map((run) => run.run_id)).toEqual([fresh.run_id]);
    expect(await service.listRuns('keeper')).toHaveLength(2);
    expect(await service.getRun(fresh.run_id)).toMatchObject({ status: 'completed' });
    expect(await store.messages.list('chatty')).toHaveLength(4);
    const chattyEvents = await service.readEvents({ agent_id: 'chatty' });
    expect(chattyEvents.length).toBeGreaterThan(0);
    for (const event of chattyEvents)
      expect(Date.parse(event.timestamp)).toBeGreaterThanOrEqual(now - 2 * DAY);

    expect((await service.pruneNow()).totals).toEqual({ runs: 0, events: 0, messages: 0 });
    expect(service.retentionStats().removed).toEqual(pruned.totals);
  });

  it('keeps everything when no retention is set (the default)', async () => {
    let now = T0;
    const service = makeService({ now: () => new Date(now) });
    await service.create(scriptedAgent('plain'));
    await service.startManager();
    await service.runNow('plain', { wait: true });
    now = T0 + 10_000 * DAY;
    const report = await service.pruneNow({ dry_run: true });
    expect(report.totals).toEqual({ runs: 0, events: 0, messages: 0 });
    expect((await service.pruneNow()).totals).toEqual({ runs: 0, events: 0, messages: 0 });
    expect(await service.listRuns('plain')).toHaveLength(1);
  });

  it('sweeps periodically while an agent runs, leaving its unfinished run alone', async () => {
    let now = T0;
    const gate = gatedModel();
    const service = makeService({
      url: temporaryDatabase(),
      now: () => new Date(now),
      syncIntervalMs: 60_000,
      retentionIntervalMs: 20,
      providers: testProvider(gate.model),
      retention: { runs_days: 1 },
    });
    await service.create(testAgent('ticker'));
    await service.startManager();
    // One run that ends, then one held in flight.
    const ended = await service.runNow('ticker');
    await waitFor(() => gate.waiting === 1, { what: 'the first call' });
    gate.release();
    await waitFor(async () => (await service.getRun(ended.run_id)).status === 'completed');
    const inFlight = await service.runNow('ticker');
    await waitFor(() => gate.waiting === 1, { what: 'the second call' });

    now = T0 + 2 * DAY;
    const sweepsBefore = service.retentionStats().sweeps;
    await waitFor(() => service.retentionStats().removed.runs === 1, { what: 'a sweep' });
    await waitFor(() => service.retentionStats().sweeps >= sweepsBefore + 2, {
      what: 'another sweep',
    });
    await expect(service.getRun(ended.run_id)).rejects.toMatchObject({ code: 'run_not_found' });
    expect(await service.getRun(inFlight.run_id)).toMatchObject({ status: 'running' });

    gate.release();
    await waitFor(async () => (await service.getRun(inFlight.run_id)).status === 'completed');
    expect(await service.getRunSteps(inFlight.run_id)).not.toHaveLength(0);
    expect(service.retentionStats().failures).toBe(0);
  });

  it('refuses a bad retention option with config_invalid naming the field', () => {
    const error = thrownError(() => makeService({ retention: { runs_days: -1 } }));
    expect(error.code).toBe('config_invalid');
    expect(error.fields).toEqual([{ path: 'retention.runs_days', message: expect.any(String) }]);
    const unknown = thrownError(() => makeService({ retention: { run_days: 1 } as never }));
    expect(unknown.fields[0]?.path).toBe('retention.run_days');
  });
});
