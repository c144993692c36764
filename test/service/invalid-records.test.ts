import { describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  NightshiftError,
  parseAgentDefinition,
} from '../../src/index.js';
import { startServer } from '../../src/server/index.js';
import { storedAgentRecord } from '../helpers/stored-agent-record.js';
import { waitFor } from '../helpers/wait-for.js';
import { makeService, scriptedAgent, temporaryDatabase } from './service-fixtures.js';

const valid = parseAgentDefinition(scriptedAgent('broken'));
const unrunnable: [string, Record<string, unknown>][] = [
  ['a tiny interval', { ...valid, interval: 0.0001 }],
  ['a huge interval', { ...valid, interval: 1e308 }],
  ['a lenient date', { ...valid, interval: undefined, run_at: 'March 7, 2030' }],
  ['an impossible date', { ...valid, interval: undefined, run_at: '2030-02-30T00:00:00Z' }],
];

describe('an unrunnable stored agent never breaks the fleet', () => {
  it('is refused by create, naming the field', async () => {
    const service = makeService();
    for (const [, definition] of unrunnable) {
      const error = await service
        .createFromUntyped({ ...definition, agent_id: 'x' })
        .catch((e: unknown) => e);
      expect(NightshiftError.isInstance(error) && error.code).toBe('config_invalid');
    }
    await expect(service.listAgents()).resolves.toEqual([]);
  });

  it.each(unrunnable)(
    'with %s: startup, listing, the API, metrics and the other agents go on; it is reported invalid',
    async (_name, definition) => {
      const url = temporaryDatabase();
      const memory = new MemoryRouter('database', { url });
      const store = await memory.connect();
      await store.agents.insert(storedAgentRecord('broken', definition));
      await memory.close();

      const warnings: string[] = [];
      const service = makeService({
        url,
        logger: {
          info: () => undefined,
          warn: (_object, message) => warnings.push(message ?? ''),
          error: () => undefined,
        },
      });
      await service.create(scriptedAgent('healthy', { interval: 0.05 }));
      await service.startAgent('healthy');
      await service.startManager();

      const statuses = await service.listAgents();
      const broken = statuses.find((status) => status.agent_id === 'broken');
      expect(broken?.state).toBe('invalid');
      expect(broken?.invalid_reason).toMatch(/interval|run_at/);
      expect(broken?.next_run_at).toBeNull();
      expect(warnings.some((message) => message.includes('broken is invalid'))).toBe(true);
      const events = await service.readEvents({ agent_id: 'broken' });
      expect(
        events.some(
          (event) => event.type === 'background_agent_status' && event.payload.state === 'invalid',
        ),
      ).toBe(true);
      await waitFor(async () => (await service.getAgentStatus('healthy')).run_count >= 2, {
        what: 'the healthy agent to run',
      });
      await expect(service.startAgent('broken')).rejects.toMatchObject({ code: 'config_invalid' });
      await expect(service.nextRuns('broken')).rejects.toMatchObject({ code: 'config_invalid' });

      const server = await startServer(service, { port: 0 });
      try {
        const agents = await fetch(`${server.url}/api/agents`);
        expect(agents.status).toBe(200);
        const metrics = await fetch(`${server.url}/metrics`);
        expect(metrics.status).toBe(200);
      } finally {
        await server.close();
      }

      // An update that fixes the definition brings the agent back.
      const fixed = await service.updateAgent('broken', {
        interval: 60,
        run_at: null,
      });
      expect(fixed.state).toBe('active');
      expect(fixed.next_run_at).not.toBeNull();
    },
  );

  it('survives a restart on the same store', async () => {
    const url = temporaryDatabase();
    const memory = new MemoryRouter('database', { url });
    const store = await memory.connect();
    await store.agents.insert(storedAgentRecord('broken', { ...valid, interval: 0.0001 }));
    await memory.close();
    for (let round = 0; round < 2; round += 1) {
      const service = new BackgroundAgentService(
        new MemoryRouter('database', { url }),
        new EventRouter('database', { url }),
      );
      await service.startManager();
      expect((await service.getAgentStatus('broken')).state).toBe('invalid');
      await service.shutdown({ timeout: 1000 });
    }
  });
});

describe('an update', () => {
  it('that sets two schedule kinds is refused, naming the second, and changes nothing', async () => {
    const service = makeService();
    await service.create(scriptedAgent('twice'));
    const error = await service
      .updateAgent('twice', { interval: 30, cron: '* * * * *' })
      .catch((caught: unknown) => caught);
    expect(NightshiftError.isInstance(error) && error.fields).toEqual([
      {
        path: 'cron',
        message: 'only one of interval, cron or run_at may be set (got interval, cron)',
      },
    ]);
    expect((await service.getAgentDefinition('twice')).interval).toBe(60);
  });
});
