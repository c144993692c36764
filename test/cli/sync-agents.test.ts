import { afterEach, describe, expect, it } from 'vitest';
import { syncAgents } from '../../src/cli/sync-agents.js';
import { parseAgentDefinition } from '../../src/config/parse-agent-definition.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import { EventRouter, MemoryRouter } from '../../src/storage/index.js';
import { scriptedAgent } from './cli-process.js';

describe('applying a Nightshift file to a store', () => {
  const services: BackgroundAgentService[] = [];

  function fleet(): { service: BackgroundAgentService; memory: MemoryRouter } {
    const memory = new MemoryRouter('in_memory');
    const service = new BackgroundAgentService(memory, new EventRouter('in_memory'), { env: {} });
    services.push(service);
    return { service, memory };
  }

  const definition = (overrides: Record<string, unknown> = {}) =>
    parseAgentDefinition(scriptedAgent('system_monitor', { interval: 60, ...overrides }), {
      env: {},
    });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.shutdown()));
  });

  it('creates and starts new agents, and leaves an unchanged one untouched', async () => {
    const { service, memory } = fleet();
    const first = await syncAgents(service, [definition()]);
    expect(first.agents).toEqual([
      {
        agent_id: 'system_monitor',
        definition: 'created',
        changed: [],
        not_compared: [],
        state: 'active',
        started: true,
        pause_reason: null,
      },
    ]);
    const store = await memory.connect();
    const before = await store.agents.get('system_monitor');
    const again = await syncAgents(service, [definition()]);
    expect(again.agents[0]).toMatchObject({
      definition: 'unchanged',
      state: 'active',
      started: false,
    });
    const after = await store.agents.get('system_monitor');
    // No update at all: the version, and the anchor interval ticks count from, stay as they were.
    expect(after?.version).toBe(before?.version);
    expect(after?.anchor_at).toBe(before?.anchor_at);
  });

  it("gives a stored agent the file's definition, removing what the file no longer sets", async () => {
    const { service } = fleet();
    await syncAgents(service, [
      definition({
        max_runs: 5,
        end_at: '2999-01-01T00:00:00Z',
        task_config: { query: 'Check.', session_id: 'shared', max_retries: 2 },
      }),
    ]);
    const result = await syncAgents(service, [
      definition({
        cron: '*/5 * * * *',
        interval: undefined,
        task_config: { query: 'Check again.' },
      }),
    ]);
    expect(result.agents[0]).toMatchObject({
      definition: 'updated',
      // The file's keys in its order, then those it no longer sets.
      changed: [
        'interval',
        'cron',
        'task_config.query',
        'task_config.max_retries',
        'task_config.session_id',
        'end_at',
        'max_runs',
      ],
    });
    const stored = await service.getAgentDefinition('system_monitor');
    expect(stored).toEqual(
      definition({
        cron: '*/5 * * * *',
        interval: undefined,
        task_config: { query: 'Check again.' },
      }),
    );
    expect(stored).not.toHaveProperty('max_runs');
    expect(stored.task_config.session_id).toBeUndefined();
  });

  it('keeps paused and stopped agents so, and reports the agents the file does not name', async () => {
    const { service } = fleet();
    await syncAgents(service, [
      definition(),
      definition({ agent_id: 'archiver' }),
      definition({ agent_id: 'digest' }),
    ]);
    await service.pauseAgent('system_monitor', { reason: 'maintenance' });
    await service.stopAgent('archiver');
    const result = await syncAgents(service, [
      definition({ interval: 120 }),
      definition({ agent_id: 'archiver' }),
    ]);
    expect(result.agents).toEqual([
      {
        agent_id: 'system_monitor',
        definition: 'updated',
        changed: ['interval'],
        not_compared: [],
        state: 'paused',
        started: false,
        pause_reason: 'maintenance',
      },
      {
        agent_id: 'archiver',
        definition: 'unchanged',
        changed: [],
        not_compared: [],
        state: 'stopped',
        started: false,
        pause_reason: null,
      },
    ]);
    expect(result.others.map((status) => [status.agent_id, status.state])).toEqual([
      ['digest', 'active'],
    ]);
    expect((await service.getAgentStatus('system_monitor')).schedule).toEqual({ interval: 120 });
  });

  it('changes nothing in a dry run, and says what it would do', async () => {
    const { service, memory } = fleet();
    await syncAgents(service, [definition()]);
    const store = await memory.connect();
    const before = await store.agents.get('system_monitor');
    const dry = await syncAgents(
      service,
      [definition({ interval: 90 }), definition({ agent_id: 'digest' })],
      { dryRun: true },
    );
    expect(
      dry.agents.map(({ agent_id, definition: change, changed, state, started }) => ({
        agent_id,
        change,
        changed,
        state,
        started,
      })),
    ).toEqual([
      {
        agent_id: 'system_monitor',
        change: 'updated',
        changed: ['interval'],
        state: 'active',
        started: false,
      },
      { agent_id: 'digest', change: 'created', changed: [], state: 'active', started: true },
    ]);
    expect((await store.agents.get('system_monitor'))?.version).toBe(before?.version);
    expect(await store.agents.get('digest')).toBeUndefined();
  });

  it('compares as the target shows definitions, and sends the values as written', async () => {
    const { service } = fleet();
    const withServer = (token: string) =>
      definition({
        mcp_tools: [
          { name: 'files', command: 'node', args: ['server.js'], env: { API_TOKEN: token } },
        ],
      });
    await syncAgents(service, [withServer('${FIRST_TOKEN}')]);
    const hide = (shown: ReturnType<typeof definition>) => ({
      ...shown,
      mcp_tools: shown.mcp_tools.map((server) => ({ ...server, env: { API_TOKEN: '[redacted]' } })),
    });
    const shownAsStored = {
      getAgentDefinition: async (agentId: string) =>
        hide(await service.getAgentDefinition(agentId)),
    };
    const target = {
      listAgents: () => service.listAgents(),
      getAgentDefinition: shownAsStored.getAgentDefinition,
      create: (input: ReturnType<typeof definition>) => service.create(input),
      updateAgent: (agentId: string, patch: Record<string, unknown>) =>
        service.updateAgent(agentId, patch),
      startAgent: (agentId: string) => service.startAgent(agentId),
    };
    // Only a hidden value differs: it cannot be seen, and the agent is left as it is.
    const hidden = await syncAgents(target, [withServer('${SECOND_TOKEN}')], { comparable: hide });
    expect(hidden.agents[0]).toMatchObject({
      definition: 'unchanged',
      not_compared: ['mcp_tools'],
    });
    // What differs as shown is sent with the file's values, hidden ones included, as written.
    const moved = withServer('${SECOND_TOKEN}');
    const changed = await syncAgents(
      target,
      [{ ...moved, mcp_tools: moved.mcp_tools.map((server) => ({ ...server, args: ['v2.js'] })) }],
      { comparable: hide },
    );
    expect(changed.agents[0]).toMatchObject({ definition: 'updated', changed: ['mcp_tools'] });
    const stored = await service.getAgentDefinition('system_monitor');
    expect(stored.mcp_tools[0]).toMatchObject({
      args: ['v2.js'],
      env: { API_TOKEN: '${SECOND_TOKEN}' },
    });
  });
});
