import { describe, expect, it } from 'vitest';
import type { BackgroundAgentService } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { makeService, scriptedAgent, temporaryDatabase } from './service-fixtures.js';

const START = Date.parse('2031-03-01T08:00:00.000Z');

/**
 * A fleet on a SQLite file: `a` active, `b` paused, `c` stopped (all tagged `nightly`, `b` also
 * `reports`), and `d` active without the tag.
 */
async function taggedFleet(service: BackgroundAgentService): Promise<void> {
  const define = (agentId: string, tags: string[]) =>
    service.create(scriptedAgent(agentId, { interval: 3600, tags }));
  await define('a', ['nightly']);
  await define('b', ['reports', 'nightly']);
  await define('c', ['nightly']);
  await define('d', []);
  for (const agentId of ['a', 'b', 'c', 'd']) await service.startAgent(agentId);
  await service.pauseAgent('b', { reason: 'earlier', by: 'bo' });
  await service.stopAgent('c');
}

async function refusal(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('tags', () => {
  it('lists the agents with a tag; each status carries its tags', async () => {
    const service = makeService({ url: temporaryDatabase() });
    await taggedFleet(service);
    const nightly = await service.listAgents({ tag: 'nightly' });
    expect(nightly.map((agent) => agent.agent_id)).toEqual(['a', 'b', 'c']);
    expect(nightly[1]?.tags).toEqual(['reports', 'nightly']);
    expect((await service.listAgents({ tag: 'reports' })).map((agent) => agent.agent_id)).toEqual([
      'b',
    ]);
    expect(await service.listAgents({ tag: 'nobody' })).toEqual([]);
    expect((await service.listAgents()).map((agent) => agent.agent_id)).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
    expect((await service.getAgentStatus('d')).tags).toEqual([]);
  });

  it('refuses a bad tag, naming it', async () => {
    const service = makeService({ url: temporaryDatabase() });
    for (const tag of ['two words', '', 'x'.repeat(65), 'semi;colon']) {
      expect(await refusal(service.listAgents({ tag })), JSON.stringify(tag)).toMatchObject({
        code: 'config_invalid',
        fields: [{ path: 'tag' }],
      });
      expect(await refusal(service.pauseAgents({ tag }))).toMatchObject({
        fields: [{ path: 'tag' }],
      });
      expect(await refusal(service.resumeAgents({ tag }))).toMatchObject({
        fields: [{ path: 'tag' }],
      });
      expect(await refusal(service.runAgentsNow({ tag }))).toMatchObject({
        fields: [{ path: 'tag' }],
      });
    }
  });

  it('pauses every agent with a tag, with one note, saying per agent what happened', async () => {
    const now = () => new Date(START);
    const service = makeService({ url: temporaryDatabase(), now });
    await taggedFleet(service);
    const until = '2031-03-01T20:00:00.000Z';
    const result = await service.pauseAgents(
      { tag: 'nightly' },
      { reason: 'warehouse migration', by: 'ana', until },
    );
    expect(result).toMatchObject({ tag: 'nightly', action: 'pause' });
    expect(result.agents).toEqual([
      { agent_id: 'a', result: 'done', state: 'paused', run: null, error: null },
      // Paused already: its own pause and note stay.
      { agent_id: 'b', result: 'unchanged', state: 'paused', run: null, error: null },
      {
        agent_id: 'c',
        result: 'refused',
        state: 'stopped',
        run: null,
        error: {
          code: 'invalid_state',
          message: 'agent "c" is stopped; only an active agent can be paused',
        },
      },
    ]);
    expect(await service.getAgentStatus('a')).toMatchObject({
      state: 'paused',
      pause_reason: 'warehouse migration',
      paused_by: 'ana',
      paused_until: until,
    });
    expect(await service.getAgentStatus('b')).toMatchObject({
      state: 'paused',
      pause_reason: 'earlier',
      paused_by: 'bo',
      paused_until: null,
    });
    expect((await service.getAgentStatus('d')).state).toBe('active');

    const again = await service.pauseAgents({ tag: 'nightly' }, { reason: 'again' });
    expect(again.agents.map((agent) => [agent.agent_id, agent.result])).toEqual([
      ['a', 'unchanged'],
      ['b', 'unchanged'],
      ['c', 'refused'],
    ]);
    expect(await service.getAgentStatus('a')).toMatchObject({
      pause_reason: 'warehouse migration',
      paused_by: 'ana',
    });
    expect(await service.pauseAgents({ tag: 'nobody' })).toEqual({
      tag: 'nobody',
      action: 'pause',
      agents: [],
    });
  });

  it('checks the note once, before any agent is paused', async () => {
    const now = () => new Date(START);
    const service = makeService({ url: temporaryDatabase(), now });
    await taggedFleet(service);
    expect(
      await refusal(service.pauseAgents({ tag: 'nightly' }, { until: '2031-03-01T07:00:00.000Z' })),
    ).toMatchObject({ code: 'config_invalid', fields: [{ path: 'until' }] });
    expect((await service.getAgentStatus('a')).state).toBe('active');
  });

  it('resumes every paused agent with a tag', async () => {
    const service = makeService({ url: temporaryDatabase() });
    await taggedFleet(service);
    const result = await service.resumeAgents({ tag: 'nightly' });
    expect(result.agents.map((agent) => [agent.agent_id, agent.result, agent.state])).toEqual([
      ['a', 'unchanged', 'active'],
      ['b', 'done', 'active'],
      ['c', 'refused', 'stopped'],
    ]);
    expect(result.agents[2]?.error?.code).toBe('invalid_state');
    expect(await service.getAgentStatus('b')).toMatchObject({
      state: 'active',
      pause_reason: null,
      paused_by: null,
    });
  });

  it('runs every agent with a tag now, in the process that runs agents', async () => {
    const url = temporaryDatabase();
    const service = makeService({ url });
    await service.startManager();
    await taggedFleet(service);
    const result = await service.runAgentsNow({ tag: 'nightly' }, { query: 'Only this once.' });
    expect(result.agents.map((agent) => [agent.agent_id, agent.result])).toEqual([
      ['a', 'done'],
      ['b', 'done'],
      ['c', 'done'],
    ]);
    for (const outcome of result.agents) {
      expect(outcome.run).toMatchObject({ agent_id: outcome.agent_id, trigger: 'manual' });
      const runId = outcome.run?.run_id ?? '';
      const run = await waitFor(async () => {
        const stored = await service.getRun(runId);
        return stored.status === 'completed' ? stored : undefined;
      });
      expect(run.query).toBe('Only this once.');
    }
    expect(await service.listRuns('d')).toEqual([]);

    // A process that runs no agents refuses each, saying so.
    const control = makeService({ url });
    const refused = await control.runAgentsNow({ tag: 'reports' });
    expect(refused.agents).toEqual([
      {
        agent_id: 'b',
        result: 'refused',
        state: 'paused',
        run: null,
        error: { code: 'invalid_state', message: expect.stringContaining('runs no agents') },
      },
    ]);
  });

  it('pauses a tag until a time, and the agents it paused resume by themselves then', async () => {
    let now = START;
    const service = makeService({
      url: temporaryDatabase(),
      now: () => new Date(now),
      syncIntervalMs: 20,
    });
    await service.startManager();
    await taggedFleet(service);
    await service.pauseAgents({ tag: 'nightly' }, { until: '2031-03-01T09:00:00Z', by: 'ana' });
    now = Date.parse('2031-03-01T09:00:00Z');
    await waitFor(
      async () =>
        // `b` was paused before, until resumed: it stays so.
        (await service.listAgents({ tag: 'nightly' })).map((agent) => agent.state).join() ===
        'active,paused,stopped',
      { what: 'the tag to resume' },
    );
  });
});
