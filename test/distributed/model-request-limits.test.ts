import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  createProcessModelRequestLimiter,
  createRedisModelRequestLimiter,
  EventRouter,
  MemoryRouter,
  type ModelRequestLimiter,
} from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { deleteKeys, probeRedis, REDIS_URL } from '../storage/redis-server.js';

const redis = await probeRedis(REDIS_URL);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Runs `count` requests of `provider` through the limiters in turn, each holding its slot `holdMs`; the most in flight at once. */
async function mostInFlight(
  limiters: ModelRequestLimiter[],
  provider: string,
  count: number,
  holdMs: number,
): Promise<number> {
  let inFlight = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const release = await limiters[index % limiters.length]!.acquire(provider);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      inFlight -= 1;
      release();
    }),
  );
  return most;
}

describe.skipIf(!redis.available)('caps on model requests per provider', () => {
  it('holds a fleet-wide cap across processes sharing Redis; a dead holder’s slot comes back', async () => {
    const prefix = `nightshift-test-${randomBytes(4).toString('hex')}`;
    cleanups.push(async () => {
      const client = new Redis(REDIS_URL);
      await deleteKeys(client, `${prefix}:`);
      client.disconnect();
    });
    const options = { url: REDIS_URL, prefix, limits: { openai: 2 }, slotTtlMs: 600 };
    const first = createRedisModelRequestLimiter(options);
    const second = createRedisModelRequestLimiter(options);
    cleanups.push(() => first.close?.() ?? Promise.resolve());
    cleanups.push(() => second.close?.() ?? Promise.resolve());

    expect(await mostInFlight([first, second], 'openai', 8, 40)).toBe(2);
    // A provider without a cap is not held back.
    expect(await mostInFlight([first, second], 'anthropic', 6, 20)).toBe(6);

    // A waiter gives up when its run's signal aborts.
    const holders = [await first.acquire('openai'), await second.acquire('openai')];
    const controller = new AbortController();
    const waiting = second.acquire('openai', controller.signal);
    controller.abort(new Error('the run timed out'));
    await expect(waiting).rejects.toThrow('the run timed out');

    // A process that dies holding slots (no release, no renewal) gives them back after the TTL.
    await first.close?.();
    holders[1]?.();
    const started = Date.now();
    const third = await second.acquire('openai');
    const fourth = await second.acquire('openai');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    third();
    fourth();
  }, 20_000);

  it('makes the runs of a service wait for a slot of their provider', async () => {
    const service = new BackgroundAgentService(
      new MemoryRouter('in_memory'),
      new EventRouter('in_memory'),
      {
        modelRequestLimiter: createProcessModelRequestLimiter({ scripted: 1 }),
      },
    );
    cleanups.push(() => service.shutdown());
    await service.startManager();
    const agents = ['one', 'two', 'three'];
    for (const agentId of agents) {
      await service.create({
        agent_id: agentId,
        interval: 3_600,
        run_immediately: true,
        model_config: { provider: 'scripted', script: [{ delay: 0.15, answer: 'ok' }] },
        task_config: { query: 'q' },
      });
      await service.startAgent(agentId);
    }
    await waitFor(
      async () => (await service.listAgents()).every((status) => status.run_count === 1),
      { timeoutMs: 5_000 },
    );
    const calls: { started: number; ended: number }[] = [];
    for (const agentId of agents) {
      const [run] = await service.listRuns(agentId);
      for (const step of await service.getRunSteps(run?.run_id ?? '')) {
        if (step.kind === 'model_call')
          calls.push({
            started: Date.parse(step.started_at),
            ended: Date.parse(step.ended_at ?? ''),
          });
      }
    }
    calls.sort((a, b) => a.started - b.started);
    expect(calls).toHaveLength(3);
    // One request at a time: each model call's step starts after the previous one's slot was
    // freed (the step is recorded when the request is made, before it waits for its slot), so
    // the three together take at least three delays.
    expect((calls.at(-1)?.ended ?? 0) - (calls[0]?.started ?? 0)).toBeGreaterThanOrEqual(
      3 * 150 - 20,
    );
  }, 20_000);
});
