import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  TIMED_RESUME_REASON,
  type NightshiftEvent,
} from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  postgresTestUrl,
  postgresUnavailableReason,
  uniqueName,
} from '../storage/postgres-server.js';
import {
  collectEvents,
  makeService,
  onCleanup,
  scriptedAgent,
  temporaryDatabase,
} from './service-fixtures.js';

const HOUR = 3_600_000;
const START = Date.parse('2031-03-01T08:00:00.000Z');
const at = (ms: number) => new Date(ms).toISOString();

/** A clock the test moves: it stands still until told. */
function testClock(start = START) {
  let now = start;
  return {
    now: () => new Date(now),
    set: (ms: number) => {
      now = ms;
    },
  };
}

/** The `timed_resume` status events of an agent among those collected. */
function timedResumes(events: readonly NightshiftEvent[], agentId: string): NightshiftEvent[] {
  return events.filter(
    (event) =>
      event.type === 'background_agent_status' &&
      event.agent_id === agentId &&
      (event.payload as { reason?: string }).reason === TIMED_RESUME_REASON,
  );
}

async function activeAgent(service: BackgroundAgentService, agentId: string): Promise<void> {
  await service.create(scriptedAgent(agentId, { interval: 3600 }));
  await service.startAgent(agentId);
}

async function stateOf(service: BackgroundAgentService, agentId: string): Promise<string> {
  return (await service.getAgentStatus(agentId)).state;
}

describe('pause notes', () => {
  it('keeps who paused an agent, why and until when, across a restart; resume clears them', async () => {
    const url = temporaryDatabase();
    const clock = testClock();
    const first = makeService({ url, now: clock.now });
    await activeAgent(first, 'nightly');
    const paused = await first.pauseAgent('nightly', {
      reason: 'deploy window',
      by: 'ana',
      until: '2031-03-01T12:00:00+02:00',
    });
    expect(paused).toMatchObject({
      state: 'paused',
      pause_reason: 'deploy window',
      paused_by: 'ana',
      // The instant, written in UTC.
      paused_until: '2031-03-01T10:00:00.000Z',
      next_run_at: null,
    });
    await first.shutdown();

    const second = makeService({ url, now: clock.now });
    expect(await second.getAgentStatus('nightly')).toMatchObject({
      state: 'paused',
      pause_reason: 'deploy window',
      paused_by: 'ana',
      paused_until: '2031-03-01T10:00:00.000Z',
    });
    const resumed = await second.resumeAgent('nightly');
    expect(resumed).toMatchObject({
      state: 'active',
      pause_reason: null,
      paused_by: null,
      paused_until: null,
    });
  });

  it('pauses with a Date, defaults the reason, and a new note replaces a paused agent’s', async () => {
    const clock = testClock();
    const service = makeService({ url: temporaryDatabase(), now: clock.now });
    await activeAgent(service, 'digest');
    expect(await service.pauseAgent('digest', { until: new Date(START + HOUR) })).toMatchObject({
      pause_reason: 'paused by request',
      paused_by: null,
      paused_until: at(START + HOUR),
    });
    // Pausing again without a note changes nothing; with one, it is the new note.
    expect(await service.pauseAgent('digest')).toMatchObject({ paused_until: at(START + HOUR) });
    expect(await service.pauseAgent('digest', { reason: 'until fixed', by: 'bo' })).toMatchObject({
      state: 'paused',
      pause_reason: 'until fixed',
      paused_by: 'bo',
      paused_until: null,
    });
  });

  it('refuses a bad or past until, and unknown options, naming the field', async () => {
    const clock = testClock();
    const service = makeService({ url: temporaryDatabase(), now: clock.now });
    await activeAgent(service, 'digest');
    const refusal = (options: unknown) =>
      service.pauseAgent('digest', options as never).then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(await refusal({ until: 'tomorrow' })).toMatchObject({
      code: 'config_invalid',
      fields: [{ path: 'until', message: expect.stringContaining('ISO 8601') }],
    });
    expect(await refusal({ until: '2031-03-01T09:00:00' })).toMatchObject({
      code: 'config_invalid',
      fields: [{ path: 'until' }],
    });
    expect(await refusal({ until: at(START - 1) })).toMatchObject({
      code: 'config_invalid',
      fields: [{ path: 'until', message: `must be in the future (it is ${at(START)} now)` }],
    });
    expect(await refusal({ until: at(START) })).toMatchObject({ fields: [{ path: 'until' }] });
    expect(await refusal({ until: new Date(Number.NaN) })).toMatchObject({
      fields: [{ path: 'until' }],
    });
    expect(await refusal({ by: '' })).toMatchObject({ fields: [{ path: 'by' }] });
    expect(await refusal({ reason: 'x'.repeat(501) })).toMatchObject({
      fields: [{ path: 'reason', message: 'must be at most 500 characters' }],
    });
    expect(await refusal({ untill: at(START + HOUR) })).toMatchObject({
      fields: [{ path: 'untill', message: expect.stringContaining('did you mean "until"') }],
    });
    expect(await stateOf(service, 'digest')).toBe('active');
  });
});

describe('timed pauses', () => {
  it('resume by themselves once due by the service clock, each on time, announced as timed_resume', async () => {
    const clock = testClock();
    const service = makeService({ url: temporaryDatabase(), now: clock.now, syncIntervalMs: 20 });
    await service.startManager();
    const events = collectEvents(service);
    await activeAgent(service, 'early');
    await activeAgent(service, 'late');
    await service.pauseAgent('early', { until: at(START + HOUR), by: 'ana' });
    await service.pauseAgent('late', { until: at(START + 2 * HOUR) });

    clock.set(START + HOUR);
    await waitFor(async () => (await stateOf(service, 'early')) === 'active', {
      what: 'early to resume',
    });
    // The sweep that resumed the first found the second not due.
    expect(await service.getAgentStatus('late')).toMatchObject({
      state: 'paused',
      paused_until: at(START + 2 * HOUR),
    });
    expect(await service.getAgentStatus('early')).toMatchObject({
      pause_reason: null,
      paused_by: null,
      paused_until: null,
    });
    await waitFor(() => timedResumes(events, 'early').length === 1, { what: 'the event' });
    expect(timedResumes(events, 'early')[0]?.payload).toMatchObject({ state: 'active' });

    clock.set(START + 2 * HOUR);
    await waitFor(async () => (await stateOf(service, 'late')) === 'active', {
      what: 'late to resume',
    });
    await waitFor(() => timedResumes(events, 'late').length === 1);
  });

  it('resume on their timer, without waiting for the periodic sync', async () => {
    // A clock ahead of real time by an hour that runs with it; the sync never comes in the test.
    const offset = HOUR;
    const service = makeService({
      url: temporaryDatabase(),
      now: () => new Date(Date.now() + offset),
      syncIntervalMs: 24 * HOUR,
    });
    await service.startManager();
    const events = collectEvents(service);
    await activeAgent(service, 'blip');
    const until = new Date(Date.now() + offset + 300);
    await service.pauseAgent('blip', { until, reason: 'a short break' });
    const resumed = await waitFor(
      async () => {
        const status = await service.getAgentStatus('blip');
        return status.state === 'active' ? status : undefined;
      },
      { what: 'the timer to resume blip' },
    );
    expect(resumed.next_run_at).not.toBeNull();
    expect(Date.now() + offset).toBeGreaterThanOrEqual(until.getTime());
    await waitFor(() => timedResumes(events, 'blip').length === 1);
  });

  it('follow the pause as it is now: one moved later or resumed by hand is not resumed at the old time', async () => {
    const clock = testClock();
    const service = makeService({ url: temporaryDatabase(), now: clock.now, syncIntervalMs: 20 });
    await service.startManager();
    const events = collectEvents(service);
    for (const agentId of ['moved', 'by_hand', 'sentinel']) await activeAgent(service, agentId);
    await service.pauseAgent('moved', { until: at(START + HOUR) });
    await service.pauseAgent('moved', { until: at(START + 3 * HOUR), reason: 'longer' });
    await service.pauseAgent('by_hand', { until: at(START + HOUR) });
    await service.resumeAgent('by_hand');
    await service.pauseAgent('sentinel', { until: at(START + 2 * HOUR) });

    clock.set(START + 2 * HOUR);
    await waitFor(async () => (await stateOf(service, 'sentinel')) === 'active');
    expect(await service.getAgentStatus('moved')).toMatchObject({
      state: 'paused',
      pause_reason: 'longer',
      paused_until: at(START + 3 * HOUR),
    });
    expect(await stateOf(service, 'by_hand')).toBe('active');
    await waitFor(() => timedResumes(events, 'sentinel').length === 1);
    expect(timedResumes(events, 'by_hand')).toEqual([]);
    expect(timedResumes(events, 'moved')).toEqual([]);

    clock.set(START + 3 * HOUR);
    await waitFor(async () => (await stateOf(service, 'moved')) === 'active');
  });

  it('are resumed by a manager started after they ended, and not by a process that runs no agents', async () => {
    const url = temporaryDatabase();
    const clock = testClock();
    const control = makeService({ url, now: clock.now });
    await activeAgent(control, 'overnight');
    await control.pauseAgent('overnight', { until: at(START + HOUR), by: 'ana' });
    clock.set(START + 2 * HOUR);
    // `control` runs no agents: it never resumes.
    expect(await stateOf(control, 'overnight')).toBe('paused');

    const manager = makeService({ url, now: clock.now, syncIntervalMs: 20 });
    await manager.startManager();
    await waitFor(async () => (await stateOf(control, 'overnight')) === 'active', {
      what: 'the new manager to resume overnight',
    });
  });

  it('leave an agent whose stored record cannot run paused, until an update fixes it', async () => {
    const url = temporaryDatabase();
    const clock = testClock();
    const manager = makeService({ url, now: clock.now, syncIntervalMs: 20 });
    await manager.startManager();
    await activeAgent(manager, 'broken');
    await activeAgent(manager, 'sentinel');
    await manager.pauseAgent('broken', { until: at(START + HOUR) });
    await manager.pauseAgent('sentinel', { until: at(START + HOUR) });
    // Written as an older version might have left it: a definition today's checks refuse.
    const memory = new MemoryRouter('database', { url });
    onCleanup(() => memory.close());
    const store = await memory.connect();
    const record = await store.agents.get('broken');
    await store.agents.update('broken', {
      definition: { ...record!.definition, interval: -5 },
    });

    clock.set(START + HOUR);
    await waitFor(async () => (await stateOf(manager, 'sentinel')) === 'active');
    expect(await store.agents.get('broken')).toMatchObject({ state: 'paused' });
    await manager.updateAgent('broken', { interval: 60 });
    await waitFor(async () => (await stateOf(manager, 'broken')) === 'active', {
      what: 'broken to resume once fixed',
    });
  });
});

const postgresUrl = postgresTestUrl();
const postgresMissing = await postgresUnavailableReason(postgresUrl);
const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
admin.on('error', () => undefined);
afterAll(() => admin.end());

describe('timed pauses with several managers', () => {
  it('resume once on one SQLite file, whichever manager gets there first', async () => {
    const url = temporaryDatabase();
    const clock = testClock();
    const managers = [0, 1].map(() => makeService({ url, now: clock.now, syncIntervalMs: 10 }));
    for (const manager of managers) await manager.startManager();
    await resumesOnce(managers, clock);
  });

  it.skipIf(postgresMissing !== undefined && process.env.CI !== 'true')(
    'resume once on one Postgres schema, each manager on its own connections',
    async () => {
      const namespace = uniqueName('nightshift_timed');
      onCleanup(async () => {
        await admin.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
      });
      const clock = testClock();
      const managers = [0, 1].map((index) => {
        const service = new BackgroundAgentService(
          new MemoryRouter('database', { url: postgresUrl, namespace }),
          new EventRouter('database', { url: postgresUrl, namespace }),
          { now: clock.now, syncIntervalMs: 10, instanceId: `manager-${index}` },
        );
        onCleanup(() => service.shutdown({ timeout: 1000 }));
        return service;
      });
      for (const manager of managers) await manager.startManager();
      await resumesOnce(managers, clock);
    },
  );
});

/**
 * Two managers sweep every few ms; several agents' timed pauses end at once. Each agent is
 * resumed once: one `timed_resume` event, one version more. A sentinel paused longer resumes
 * after them, so both managers have swept the ended pauses again by then.
 */
async function resumesOnce(
  managers: BackgroundAgentService[],
  clock: ReturnType<typeof testClock>,
): Promise<void> {
  const [first, second] = managers as [BackgroundAgentService, BackgroundAgentService];
  const events = collectEvents(first);
  const agents = ['a1', 'a2', 'a3', 'a4'];
  for (const agentId of [...agents, 'sentinel']) await activeAgent(first, agentId);
  for (const agentId of agents)
    await (agentId === 'a2' ? second : first).pauseAgent(agentId, { until: at(START + HOUR) });
  await first.pauseAgent('sentinel', { until: at(START + 2 * HOUR) });

  clock.set(START + HOUR);
  for (const agentId of agents)
    await waitFor(async () => (await stateOf(second, agentId)) === 'active', {
      what: `${agentId} to resume`,
    });
  clock.set(START + 2 * HOUR);
  await waitFor(async () => (await stateOf(first, 'sentinel')) === 'active');
  // The log is read in order: once the sentinel's event is in, every earlier one is.
  await waitFor(() => timedResumes(events, 'sentinel').length === 1);
  for (const agentId of agents) {
    expect(timedResumes(events, agentId), agentId).toHaveLength(1);
  }
  const memoryEvents = events.filter(
    (event) => event.type === 'background_agent_status' && agents.includes(event.agent_id),
  );
  // Created, started, paused, resumed: four announcements each, no more.
  expect(memoryEvents).toHaveLength(agents.length * 4);
}
