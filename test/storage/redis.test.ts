import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NightshiftError } from '../../src/errors.js';
import {
  compareEventIds,
  maskUrl,
  type EventLog,
  type NightshiftEvent,
  type Store,
} from '../../src/storage/index.js';
import {
  createRedisStore,
  createRedisStreamEventLog,
  resolveRedisUrl,
} from '../../src/storage/redis/index.js';
import { describeAgentStore } from './contracts/agent-store.js';
import { describeApprovalStore } from './contracts/approval-store.js';
import { describeBudgetStore } from './contracts/budget-store.js';
import { describeEventLog } from './contracts/event-log.js';
import {
  agentMessage,
  agentRecord,
  minute,
  runRecord,
  WAIT,
  type StoreFactory,
} from './contracts/fixtures.js';
import { describeLeaseStore } from './contracts/lease-store.js';
import { describeRunPhases } from './contracts/run-phases.js';
import { describeMessageStore } from './contracts/message-store.js';
import { describeRunStore } from './contracts/run-store.js';
import {
  clientIdNamed,
  deleteKeys,
  freshPrefix,
  keysUnder,
  probeRedis,
  REDIS_URL,
  startFaultyProxy,
} from './redis-server.js';

const redis = await probeRedis();
if (!redis.available) {
  const why = `no Redis answers at ${maskUrl(REDIS_URL)} (${redis.reason})`;
  if (process.env.CI === 'true') {
    // In CI a skipped backend would pass unnoticed, so a missing server fails the run.
    describe('redis backend', () => {
      it('has a Redis server to test against', () => {
        throw new Error(`${why}; start one or set REDIS_URL`);
      });
    });
  } else {
    console.log(`Skipping the Redis backend tests: ${why}. Start Redis or set REDIS_URL.`);
  }
}
const describeRedis = redis.available ? describe : describe.skip;

/** Reads and cleans up keys; the only client here that is not part of a store or log. */
let adminClient: Redis | undefined;
function admin(): Redis {
  adminClient ??= new Redis(REDIS_URL, { lazyConnect: true });
  return adminClient;
}

const storeFactory: StoreFactory = async (options = {}) => {
  const prefix = freshPrefix();
  // The namespace is the prefix without its closing colon.
  const open = () =>
    createRedisStore({ url: REDIS_URL, namespace: prefix.slice(0, -1), now: options.now });
  const store = open();
  const siblings: Store[] = [];
  return {
    store,
    cleanup: async () => {
      for (const sibling of siblings) await sibling.close();
      await store.close();
      await deleteKeys(admin(), prefix);
    },
    sibling: () => {
      const sibling = open();
      siblings.push(sibling);
      return sibling;
    },
  };
};

function messagesOf(events: readonly NightshiftEvent[]): string[] {
  return events.map((event) => (event.payload as { message: string }).message);
}

function expectIncreasingIds(events: readonly NightshiftEvent[]): void {
  for (let index = 1; index < events.length; index += 1) {
    expect(compareEventIds(events[index]!.id, events[index - 1]!.id)).toBeGreaterThan(0);
  }
}

function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describeRedis('redis backend', () => {
  afterAll(async () => {
    await adminClient?.quit();
  });

  describeAgentStore('redis', storeFactory);
  describeRunPhases('redis', storeFactory);
  describeRunStore('redis', storeFactory);
  describeMessageStore('redis', storeFactory);
  describeLeaseStore('redis', storeFactory);
  describeBudgetStore('redis', storeFactory);
  describeApprovalStore('redis', storeFactory);
  describeEventLog('redis_stream', async (options = {}) => {
    const prefix = freshPrefix();
    const log = createRedisStreamEventLog({
      url: REDIS_URL,
      namespace: prefix.slice(0, -1),
      maxEvents: options.maxEvents,
      onError: options.onError,
    });
    return {
      log,
      cleanup: async () => {
        await log.close();
        await deleteKeys(admin(), prefix);
      },
    };
  });

  describe('shared by several processes', () => {
    let prefix: string;
    /** Everything a test opened, closed after it whatever happened. */
    const opened: (Store | EventLog)[] = [];

    /** A store with its own connection, as another process would have. */
    function openStore(): Store {
      const store = createRedisStore({ url: REDIS_URL, prefix });
      opened.push(store);
      return store;
    }

    function openLog(options: { maxLen?: number; onError?: (error: unknown) => void } = {}) {
      const log = createRedisStreamEventLog({ url: REDIS_URL, prefix, ...options });
      opened.push(log);
      return log;
    }

    /** Subscribes to `log` and waits until it hears its own marker, so it is live. */
    async function listen(
      log: EventLog,
      options: { agent_id?: string } = {},
    ): Promise<NightshiftEvent[]> {
      const heard: NightshiftEvent[] = [];
      const marker: NightshiftEvent[] = [];
      log.subscribe((event) => heard.push(event), options);
      const unsubscribe = log.subscribe((event) => marker.push(event));
      const sent = await log.append(agentMessage('marker', 'listening'));
      await expect.poll(() => marker.some((event) => event.id === sent.id), WAIT).toBe(true);
      unsubscribe();
      return heard;
    }

    function withoutMarkers(events: readonly NightshiftEvent[]): NightshiftEvent[] {
      return events.filter((event) => event.agent_id !== 'marker');
    }

    // One prefix per test, shared by the test's "processes".
    beforeEach(() => {
      prefix = freshPrefix();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((item) => item.close()));
      await deleteKeys(admin(), prefix);
    });

    it('keeps a grant after its counter expired, and a retried grant does not make it again', async () => {
      const store = openStore();
      const grant = {
        grant_id: 'grant-1',
        key: 'agent:alpha:per_day:2026-12-03',
        amounts: { micro_usd: 0, tokens: 5, requests: 0, tool_calls: 0 },
        by: 'ana',
        note: 'quarter end',
        granted_at: '2026-12-03T12:00:00.000Z',
        resets_at: '2026-12-04T00:00:00.000Z',
        expires_at: null,
        expired_at: null,
      };
      await store.budgets.grant(grant);
      // What PEXPIREAT does once the counter's time is up.
      expect(await admin().unlink(`${prefix}budget-counter:${grant.key}`)).toBe(1);
      const [gone] = await store.budgets.counters([grant.key]);
      expect(gone?.granted.tokens).toBe(0);
      expect(await store.budgets.listGrants()).toEqual([grant]);
      expect((await store.budgets.grant(grant)).granted.tokens).toBe(0);
      expect(await store.budgets.listGrants()).toEqual([grant]);
    });

    it('expires a grant whose counter expired without making it again; granted never drops below 0', async () => {
      const store = openStore();
      const grant = (grantId: string, key: string) => ({
        grant_id: grantId,
        key,
        amounts: { micro_usd: 0, tokens: 5, requests: 0, tool_calls: 0 },
        by: 'ana',
        note: 'quarter end',
        granted_at: '2026-12-03T12:00:00.000Z',
        resets_at: '2026-12-04T00:00:00.000Z',
        expires_at: '2026-12-03T13:00:00.000Z',
      });
      const gone = grant('grant-1', 'agent:alpha:per_day:2026-12-03');
      const lowered = grant('grant-2', 'agent:bravo:per_day:2026-12-03');
      await store.budgets.grant(gone);
      await store.budgets.grant(lowered);
      expect(await admin().unlink(`${prefix}budget-counter:${gone.key}`)).toBe(1);
      // Less granted than the grant's amounts (as no write of Nightshift leaves it).
      await admin().hset(`${prefix}budget-counter:${lowered.key}`, 'granted_tokens', '3');
      const sweptAt = new Date('2026-12-03T13:00:00.000Z');
      expect((await store.budgets.expireGrants(sweptAt)).map((g) => g.grant_id)).toEqual([
        'grant-1',
        'grant-2',
      ]);
      expect(await admin().exists(`${prefix}budget-counter:${gone.key}`)).toBe(0);
      const [bravo] = await store.budgets.counters([lowered.key]);
      expect(bravo?.granted.tokens).toBe(0);
      expect(await admin().zcard(`${prefix}budget-grant-expiries`)).toBe(0);
    });

    it('reads a grant stored before grants could expire as lasting its window', async () => {
      const store = openStore();
      const stored = {
        grant_id: 'old',
        key: 'fleet:per_day:2026-12-03',
        amounts: { micro_usd: 0, tokens: 5, requests: 0, tool_calls: 0 },
        by: 'ana',
        note: 'before expiry',
        granted_at: '2026-12-03T12:00:00.000Z',
        resets_at: '2026-12-04T00:00:00.000Z',
      };
      await admin().set(`${prefix}budget-grant:old`, JSON.stringify(stored));
      await admin().zadd(`${prefix}budget-grants`, Date.parse(stored.granted_at), 'old');
      expect(await store.budgets.listGrants()).toEqual([
        { ...stored, expires_at: null, expired_at: null },
      ]);
      expect(await store.budgets.expireGrants(new Date('2027-01-01T00:00:00Z'))).toEqual([]);
    });

    it('keeps both changes when another store updated a step this one wrote', async () => {
      const [writer, other] = [openStore(), openStore()];
      const step = {
        run_id: 'r1',
        step_id: '1.0',
        attempt: 1,
        index: 0,
        kind: 'tool_call' as const,
        state: 'started' as const,
        started_at: '2026-12-03T00:00:00.000Z',
        ended_at: null,
        tool_name: 'lookup',
      };
      await writer.runs.appendStep(step);
      await writer.runs.appendStep({ ...step, step_id: '1.1', index: 1 });
      // Another process changed the first step since this one wrote it.
      await other.runs.updateStep('r1', '1.0', { error: 'seen elsewhere' });
      await writer.runs.updateStep('r1', '1.0', { state: 'completed', outcome: 'success' });
      await writer.runs.updateStep('r1', '1.1', { state: 'completed', outcome: 'error' });
      expect(await other.runs.listSteps('r1')).toMatchObject([
        { step_id: '1.0', state: 'completed', outcome: 'success', error: 'seen elsewhere' },
        { step_id: '1.1', state: 'completed', outcome: 'error' },
      ]);
    });

    it('updates a run or an agent from what is stored when another store changed it since this one wrote it', async () => {
      const [writer, other] = [openStore(), openStore()];
      const run = runRecord('alpha', minute(0), { status: 'pending' });
      await writer.runs.claim(run);
      // Another process moved the run on since this one claimed it.
      await other.runs.update(run.run_id, { status: 'running', lease_owner: 'other' });
      // Judged on the stored run, not on the one this store wrote.
      expect(
        await writer.runs.update(run.run_id, { output: 'done' }, { status: ['running'] }),
      ).toMatchObject({ status: 'running', lease_owner: 'other', output: 'done' });
      expect(
        await writer.runs.update(run.run_id, { output: 'again' }, { status: ['pending'] }),
      ).toBeUndefined();
      await other.runs.update(run.run_id, {
        error: { code: 'unknown', message: 'seen elsewhere' },
      });
      expect(await writer.runs.update(run.run_id, { status: 'completed' })).toMatchObject({
        status: 'completed',
        output: 'done',
        error: { code: 'unknown', message: 'seen elsewhere' },
      });
      expect(await other.runs.get(run.run_id)).toMatchObject({
        status: 'completed',
        output: 'done',
      });
      expect(await other.runs.list('alpha', { status: 'completed' })).toHaveLength(1);
      expect(await other.runs.list('alpha', { status: 'running' })).toEqual([]);

      await writer.agents.insert(agentRecord('alpha'));
      expect((await writer.agents.get('alpha'))?.stats.skip_count).toBe(0);
      await other.agents.updateStats('alpha', { skipped: 1 });
      await other.agents.update('alpha', { state: 'paused' });
      expect((await writer.agents.updateStats('alpha', { skipped: 1 }))?.stats.skip_count).toBe(2);
      expect(
        await writer.agents.update('alpha', { state: 'stopped' }, { state: 'paused' }),
      ).toMatchObject({
        state: 'stopped',
      });
      expect((await other.agents.get('alpha'))?.stats.skip_count).toBe(2);
    });

    it('neither renews nor releases a lease another store took over since this one wrote it', async () => {
      const [first, second] = [openStore(), openStore()];
      const lease = await first.leases.acquire('overlap:alpha', 'first', 50);
      expect(lease).toBeDefined();
      // Once it expires, the other store takes it.
      await expect
        .poll(() => second.leases.acquire('overlap:alpha', 'second', 60_000), WAIT)
        .toBeDefined();
      expect(await first.leases.renew('overlap:alpha', 'first', lease!.token, 60_000)).toBe(false);
      expect(await first.leases.release('overlap:alpha', 'first', lease!.token)).toBe(false);
      expect(await first.leases.get('overlap:alpha')).toMatchObject({ holder: 'second' });
      const taken = await second.leases.get('overlap:alpha');
      expect(await second.leases.renew('overlap:alpha', 'second', taken!.token, 60_000)).toBe(true);
      expect(await second.leases.release('overlap:alpha', 'second', taken!.token)).toBe(true);
      expect(await first.leases.get('overlap:alpha')).toBeUndefined();
    });

    it('lets exactly one claim of a run win across stores', async () => {
      const stores = [openStore(), openStore()];
      const run = runRecord('alpha', minute(0));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          stores[index % 2]!.runs.claim({ ...run, lease_owner: `worker-${index}` }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await stores[1]!.runs.get(run.run_id)).toMatchObject({
        lease_owner: `worker-${results.indexOf(true)}`,
      });
      expect(await stores[0]!.runs.listUnfinished()).toHaveLength(1);
    });

    it('grants a lease to exactly one of many racing stores, with growing tokens', async () => {
      const stores = [openStore(), openStore()];
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          stores[index % 2]!.leases.acquire('agent:alpha', `worker-${index}`, 60_000),
        ),
      );
      const granted = results.filter((lease) => lease !== undefined);
      expect(granted).toHaveLength(1);
      const lease = granted[0]!;
      expect(await stores[0]!.leases.get('agent:alpha')).toEqual(lease);
      const holder = results.indexOf(lease);
      expect(
        await stores[(holder + 1) % 2]!.leases.release('agent:alpha', lease.holder, lease.token),
      ).toBe(true);
      const next = await stores[holder % 2]!.leases.acquire('agent:alpha', 'worker-late', 60_000);
      expect(next!.token).toBeGreaterThan(lease.token);
      expect(await stores[0]!.leases.renew('agent:alpha', lease.holder, lease.token, 60_000)).toBe(
        false,
      );
    });

    it('lets exactly one of many racing conditional takeovers win across stores', async () => {
      const stores = [openStore(), openStore()];
      const run = runRecord('alpha', minute(0), {
        status: 'running',
        lease_owner: 'worker-dead',
        lease_expires_at: minute(1),
      });
      await stores[0]!.runs.claim(run);
      const takeovers = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          stores[index % 2]!.runs.update(
            run.run_id,
            { lease_owner: `recovery-${index}`, lease_expires_at: minute(30) },
            { lease_owner: 'worker-dead', status: ['running'], lease_expired_at: minute(2) },
          ),
        ),
      );
      const winners = takeovers.filter((taken) => taken !== undefined);
      expect(winners).toHaveLength(1);
      expect(await stores[1]!.runs.get(run.run_id)).toEqual(winners[0]);
    });

    it('loses no counter change or version bump made by two stores at once', async () => {
      const stores = [openStore(), openStore()];
      await stores[0]!.agents.insert(agentRecord('alpha'));
      await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          index % 4 === 0
            ? stores[index % 2]!.agents.update('alpha', { pause_reason: `reason ${index}` })
            : stores[index % 2]!.agents.updateStats('alpha', { skipped: 1 }),
        ),
      );
      const agent = await stores[1]!.agents.get('alpha');
      expect(agent?.stats.skip_count).toBe(30);
      expect(agent?.version).toBe(11);
    });

    it('keeps each append of messages whole when two stores append at once', async () => {
      const stores = [openStore(), openStore()];
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          stores[index % 2]!.messages.append('session', [
            { role: 'user', content: `question ${index}` },
            { role: 'assistant', content: `answer ${index}` },
          ]),
        ),
      );
      const messages = await stores[0]!.messages.list('session');
      expect(messages).toHaveLength(40);
      for (let index = 0; index < 40; index += 2) {
        const asked = String(messages[index]!.content).replace('question', 'answer');
        expect(messages[index + 1]!.content).toBe(asked);
      }
    });

    it("deletes an agent's runs without leaving a key or index entry behind", async () => {
      const store = openStore();
      for (const agentId of ['alpha', 'bravo']) {
        for (let at = 0; at < 3; at += 1) {
          const run = runRecord(agentId, minute(at), { status: at === 0 ? 'running' : 'pending' });
          await store.runs.claim(run);
          await store.runs.appendStep({
            run_id: run.run_id,
            step_id: '1.0',
            attempt: 1,
            index: 0,
            kind: 'model_call',
            state: 'started',
            started_at: minute(at),
            ended_at: null,
          });
        }
        await store.runs.update(runRecord(agentId, minute(1)).run_id, { status: 'completed' });
      }
      await store.runs.deleteByAgent('alpha');
      const keys = await keysUnder(admin(), prefix);
      expect(keys.filter((key) => key.includes('alpha'))).toEqual([]);
      expect(keys.filter((key) => key.includes('bravo')).length).toBeGreaterThan(0);
      const unfinished = await admin().zrange(`${prefix}unfinished-runs`, 0, '-1');
      expect(unfinished).toHaveLength(2);
      expect(unfinished.every((member) => member.includes('bravo@'))).toBe(true);
    });

    it('hands 500 concurrent appends of one log to the subscribers of another, once each and in order', async () => {
      const writer = openLog();
      const reader = openLog();
      const fleet = await listen(reader);
      const alpha = await listen(reader, { agent_id: 'alpha' });
      const bravo = await listen(reader, { agent_id: 'bravo' });
      const start = (await reader.read({ limit: 10_000 })).at(-1)!.id;

      await Promise.all(
        Array.from({ length: 500 }, (_, index) =>
          writer.append(agentMessage(index % 2 === 0 ? 'alpha' : 'bravo', `m${index}`)),
        ),
      );
      await expect.poll(() => withoutMarkers(fleet).length, WAIT).toBe(500);
      await expect.poll(() => alpha.length, WAIT).toBe(250);
      await expect.poll(() => bravo.length, WAIT).toBe(250);

      const stored = await writer.read({ after: start, limit: 10_000 });
      expect(withoutMarkers(fleet)).toEqual(stored);
      expect(new Set(stored.map((event) => event.id)).size).toBe(500);
      expectIncreasingIds(stored);
      expect(alpha.every((event) => event.agent_id === 'alpha')).toBe(true);
      expect(bravo.every((event) => event.agent_id === 'bravo')).toBe(true);
      // One id names an event in the fleet stream and in its agent's stream.
      expect(alpha).toEqual(stored.filter((event) => event.agent_id === 'alpha'));
      expect(await reader.read({ agent_id: 'alpha', limit: 10_000 })).toEqual(alpha);
      expect(await reader.read({ agent_id: 'bravo', after: bravo[99]!.id, limit: 10_000 })).toEqual(
        bravo.slice(100),
      );
      expect(await reader.read({ agent_id: 'alpha', after: stored[250]!.id, limit: 2 })).toEqual(
        alpha.filter((event) => compareEventIds(event.id, stored[250]!.id) > 0).slice(0, 2),
      );
    });

    it('frees the tail when the last listener leaves, and starts over from "now" on the next', async () => {
      const log = openLog();
      const tailName = `${prefix}events-tail`;
      const first: NightshiftEvent[] = [];
      const unsubscribe = log.subscribe((event) => first.push(event));
      await log.append(agentMessage('alpha', 'first'));
      await expect.poll(() => first.length, WAIT).toBe(1);
      expect(await clientIdNamed(admin(), tailName)).toBeDefined();
      unsubscribe();
      await expect.poll(() => clientIdNamed(admin(), tailName), WAIT).toBeUndefined();

      await log.append(agentMessage('alpha', 'while nobody listened'));
      const heard = await listen(log);
      await log.append(agentMessage('alpha', 'after subscribing'));
      await expect.poll(() => withoutMarkers(heard).length, WAIT).toBe(1);
      expect(messagesOf(withoutMarkers(heard))).toEqual(['after subscribing']);
    });

    it('resumes a subscription after its connection is killed, missing nothing appended meanwhile', async () => {
      const writer = openLog();
      const errors: unknown[] = [];
      const reader = openLog({ onError: (error) => errors.push(error) });
      const heard = await listen(reader);
      const tailName = `${prefix}events-tail`;
      const killed = await clientIdNamed(admin(), tailName);
      expect(killed).toBeDefined();

      await admin().client('KILL', 'ID', killed!);
      // Appended at once: the tail reconnects only after its backoff.
      const appended: NightshiftEvent[] = [];
      for (let index = 0; index < 20; index += 1) {
        appended.push(await writer.append(agentMessage('alpha', `meanwhile ${index}`)));
      }
      await expect.poll(() => withoutMarkers(heard).length, WAIT).toBe(20);
      expect(withoutMarkers(heard)).toEqual(appended);

      const reconnected = await clientIdNamed(admin(), tailName);
      expect(reconnected).toBeDefined();
      expect(reconnected).not.toBe(killed);
      const later = await writer.append(agentMessage('alpha', 'after reconnecting'));
      await expect.poll(() => withoutMarkers(heard).length, WAIT).toBe(21);
      expect(withoutMarkers(heard).at(-1)).toEqual(later);
      expect(errors).toEqual([]);
    });

    it('reconnects a store and a log whose command connections were killed', async () => {
      const store = openStore();
      const log = openLog();
      await store.agents.insert(agentRecord('alpha'));
      const first = await log.append(agentMessage('alpha', 'before'));
      for (const name of [`${prefix}store`, `${prefix}events`]) {
        const id = await clientIdNamed(admin(), name);
        expect(id).toBeDefined();
        await admin().client('KILL', 'ID', id!);
      }

      expect(await store.agents.get('alpha')).toEqual(agentRecord('alpha'));
      expect((await store.agents.updateStats('alpha', { skipped: 1 }))?.stats.skip_count).toBe(1);
      const second = await log.append(agentMessage('alpha', 'after'));
      expect(await log.read()).toEqual([first, second]);
    });

    it('applies a write once when its reply is lost with the connection and it is resent', async () => {
      const proxy = await startFaultyProxy();
      const store = createRedisStore({ url: proxy.url, prefix });
      const log = createRedisStreamEventLog({ url: proxy.url, prefix });
      try {
        await store.agents.insert(agentRecord('alpha'));
        const connectionId = await clientIdNamed(admin(), `${prefix}store`);

        proxy.loseNextScriptReply();
        const updated = await store.agents.updateStats('alpha', { skipped: 1 });
        expect(updated?.stats.skip_count).toBe(1);
        expect((await store.agents.get('alpha'))?.stats.skip_count).toBe(1);
        // The reply really was lost: the store answered over a new connection.
        expect(await clientIdNamed(admin(), `${prefix}store`)).not.toBe(connectionId);

        proxy.loseNextScriptReply();
        expect(await store.runs.claim(runRecord('alpha', minute(0)))).toBe(true);

        proxy.loseNextScriptReply();
        await store.messages.append('session', [{ role: 'user', content: 'once' }]);
        expect(await store.messages.list('session')).toEqual([{ role: 'user', content: 'once' }]);

        proxy.loseNextScriptReply();
        const event = await log.append(agentMessage('alpha', 'once'));
        expect(await log.read()).toEqual([event]);
        expect(await log.read({ agent_id: 'alpha' })).toEqual([event]);
      } finally {
        await Promise.all([store.close(), log.close()]);
        await proxy.close();
      }
    });

    it('appends events made together in one script call, in the order they were made', async () => {
      const proxy = await startFaultyProxy();
      const log = createRedisStreamEventLog({ url: proxy.url, prefix });
      try {
        await log.append(agentMessage('alpha', 'first'));
        const before = proxy.scriptCalls();
        const appended = await Promise.all(
          Array.from({ length: 60 }, (_, index) =>
            log.append(agentMessage(index % 2 === 0 ? 'alpha' : 'bravo', `m${index}`)),
          ),
        );
        // One call for all sixty, or two if the first left before the rest were made.
        expect(proxy.scriptCalls() - before).toBeGreaterThanOrEqual(1);
        expect(proxy.scriptCalls() - before).toBeLessThanOrEqual(2);
        expectIncreasingIds(appended);
        expect(messagesOf(appended)).toEqual(Array.from({ length: 60 }, (_, index) => `m${index}`));
        expect((await log.read({ limit: 100 })).slice(1)).toEqual(appended);
        expect(await log.read({ agent_id: 'bravo', limit: 100 })).toEqual(
          appended.filter((event) => event.agent_id === 'bravo'),
        );
      } finally {
        await log.close();
        await proxy.close();
      }
    });

    it('hands a typed subscriber an event written without a type field, as older versions wrote it', async () => {
      const log = openLog();
      const messages = await listen(log);
      const typed: NightshiftEvent[] = [];
      log.subscribe((event) => typed.push(event), { types: ['agent_message'] });
      const old = agentMessage('alpha', 'old');
      const json = JSON.stringify(old);
      const id = await admin().xadd(`${prefix}events`, '*', 'event', json);
      await admin().xadd(`${prefix}events:alpha`, id!, 'event', json);
      const current = await log.append(agentMessage('alpha', 'current'));
      await expect.poll(() => typed.length, WAIT).toBe(2);
      expect(typed).toEqual([{ ...old, id }, current]);
      expect(withoutMarkers(messages)).toEqual(typed);
      expect(await log.read({ agent_id: 'alpha' })).toEqual(typed);
    });

    it('closes at once while its tail is blocked reading', async () => {
      const log = openLog();
      await listen(log);
      const started = Date.now();
      await log.close();
      // Well under the 5 s an XREAD blocks: close() dropped the connection, not waited.
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await clientIdNamed(admin(), `${prefix}events-tail`)).toBeUndefined();
      expect(() => log.subscribe(() => undefined)).toThrow(/closed/);
      await expect(log.append(agentMessage('alpha', 'late'))).rejects.toMatchObject({
        code: 'storage_unavailable',
      });
    });

    it('trims the streams to about maxLen', async () => {
      const small = openLog({ maxLen: 50 });
      const appended: NightshiftEvent[] = [];
      for (let batch = 0; batch < 10; batch += 1) {
        appended.push(
          ...(await Promise.all(
            Array.from({ length: 50 }, (_, index) =>
              small.append(agentMessage(index % 2 === 0 ? 'alpha' : 'bravo', `m${batch}.${index}`)),
            ),
          )),
        );
      }
      const fleetLength = await admin().xlen(`${prefix}events`);
      expect(fleetLength).toBeGreaterThanOrEqual(50);
      expect(fleetLength).toBeLessThanOrEqual(100);
      for (const agentId of ['alpha', 'bravo']) {
        const length = await admin().xlen(`${prefix}events:${agentId}`);
        expect(length).toBeGreaterThanOrEqual(50);
        expect(length).toBeLessThanOrEqual(100);
      }
      const sorted = [...appended].sort((a, b) => compareEventIds(a.id, b.id));
      const kept = await small.read();
      expect(kept).toEqual(sorted.slice(-kept.length));

      // From 1,000 up, trimming is approximate (whole stream nodes): about, not exactly.
      const large = createRedisStreamEventLog({
        url: REDIS_URL,
        prefix: `${prefix}large:`,
        maxLen: 1_000,
      });
      opened.push(large);
      await Promise.all(
        Array.from({ length: 1_500 }, (_, index) =>
          large.append(agentMessage('alpha', `m${index}`)),
        ),
      );
      const largeLength = await admin().xlen(`${prefix}large:events`);
      expect(largeLength).toBeGreaterThanOrEqual(1_000);
      expect(largeLength).toBeLessThan(1_500);
    });
  });

  describe('an unreachable or invalid URL', () => {
    const unreachable = 'redis://:secret@127.0.0.1:1';

    function expectMaskedUnavailable(error: unknown): void {
      expect(NightshiftError.isInstance(error) && error.code).toBe('storage_unavailable');
      const message = (error as Error).message;
      expect(message).toContain('redis://:[redacted]@127.0.0.1:1');
      expect(message).not.toContain('secret');
      expect(JSON.stringify((error as NightshiftError).details)).not.toContain('secret');
      expect(String((error as Error).cause)).not.toContain('secret');
    }

    it('fails the first use of a store with storage_unavailable, masked, without retrying', async () => {
      const store = createRedisStore({ url: unreachable });
      try {
        expect(store.description).toBe('redis://:[redacted]@127.0.0.1:1');
        const started = Date.now();
        expectMaskedUnavailable(await errorOf(store.agents.get('alpha')));
        // A refused connection is reported at once, not after a round of reconnects.
        expect(Date.now() - started).toBeLessThan(1_000);
        // Later uses try again, and fail the same way.
        expectMaskedUnavailable(await errorOf(store.runs.claim(runRecord('alpha', minute(0)))));
      } finally {
        await store.close();
      }
    });

    it('fails appends and reports a failing tail through onError, masked', async () => {
      const errors: unknown[] = [];
      const log = createRedisStreamEventLog({
        url: unreachable,
        onError: (error) => errors.push(error),
      });
      try {
        expectMaskedUnavailable(await errorOf(log.append(agentMessage('alpha', 'lost'))));
        expectMaskedUnavailable(await errorOf(log.read()));
        log.subscribe(() => undefined);
        await expect.poll(() => errors.length, WAIT).toBeGreaterThan(0);
        for (const error of errors) expectMaskedUnavailable(error);
      } finally {
        await log.close();
      }
    });

    it('uses the URL given, else REDIS_URL, else the local default', () => {
      const env = { REDIS_URL: 'redis://elsewhere:6380' };
      expect(resolveRedisUrl('redis://given:6379', env)).toBe('redis://given:6379');
      expect(resolveRedisUrl(undefined, env)).toBe('redis://elsewhere:6380');
      expect(resolveRedisUrl(undefined, {})).toBe('redis://127.0.0.1:6379');
    });

    it('refuses a URL that is not a Redis URL, naming the field', () => {
      let error: unknown;
      try {
        createRedisStore({ url: 'http://user:secret@example.com' });
      } catch (caught) {
        error = caught;
      }
      expect(NightshiftError.isInstance(error) && error.code).toBe('config_invalid');
      expect((error as NightshiftError).fields[0]?.path).toBe('url');
      expect((error as Error).message).not.toContain('secret');
    });
  });
});
