import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/index.js';
import { createRedisStore } from '../../src/storage/redis/index.js';
import {
  agentRecord,
  completedRunStats,
  ENDED_RUN,
  minute,
  runRecord,
} from './contracts/fixtures.js';
import { deleteKeys, freshPrefix, probeRedis, REDIS_URL, startRedisProxy } from './redis-server.js';

const MINUTE = 60_000;
const KEY = 'overlap:alpha';

/** A TCP proxy in front of Redis that notes every command sent through it, by name. */
interface CountingProxy {
  url: string;
  /** The names of the commands sent so far, lower case, in the order they arrived. */
  readonly commands: readonly string[];
  close(): Promise<void>;
}

/**
 * The names of the whole commands at the start of `buffer` (RESP arrays of bulk strings, as
 * ioredis sends them), and how many bytes they took: a command cut off by the chunk's end
 * waits for the next chunk.
 */
function parseCommands(buffer: Buffer): { names: string[]; used: number } {
  const names: string[] = [];
  let used = 0;
  for (;;) {
    let at = used;
    const line = (): string | undefined => {
      const end = buffer.indexOf('\r\n', at);
      if (end < 0) return undefined;
      const text = buffer.toString('latin1', at, end);
      at = end + 2;
      return text;
    };
    const header = line();
    if (header === undefined || !header.startsWith('*')) return { names, used };
    const args: string[] = [];
    for (let count = Number(header.slice(1)); args.length < count;) {
      const length = line();
      if (length === undefined) return { names, used };
      const size = Number(length.slice(1));
      if (buffer.length < at + size + 2) return { names, used };
      args.push(buffer.toString('latin1', at, at + size));
      at += size + 2;
    }
    names.push((args[0] ?? '').toLowerCase());
    used = at;
  }
}

async function startCountingProxy(): Promise<CountingProxy> {
  const commands: string[] = [];
  const proxy = await startRedisProxy(REDIS_URL, () => {
    let pending = Buffer.alloc(0);
    return {
      // Noted before forwarding: by the time a reply is back, its command is counted.
      request(chunk) {
        pending = Buffer.concat([pending, chunk]);
        const { names, used } = parseCommands(pending);
        commands.push(...names);
        pending = pending.subarray(used);
      },
    };
  });
  return { ...proxy, commands };
}

const redis = await probeRedis();
const describeRedis = redis.available ? describe : describe.skip;
if (!redis.available && process.env.CI === 'true') {
  throw new Error(`no Redis answers for the run phases tests (${redis.reason})`);
}

describeRedis('Redis run phases: one script call each', () => {
  let admin: Redis;
  let proxy: CountingProxy;
  let prefix: string;
  /** Talks to Redis through the proxy: every command it sends is counted. */
  let store: Store;
  /** Another process on the same namespace, straight to Redis. */
  let other: Store;

  beforeEach(async () => {
    admin = new Redis(REDIS_URL, { lazyConnect: true });
    proxy = await startCountingProxy();
    prefix = freshPrefix();
    const namespace = prefix.slice(0, -1);
    store = createRedisStore({ url: proxy.url, namespace });
    other = createRedisStore({ url: REDIS_URL, namespace });
    // Warm: the connection made and every script loaded, so what is counted is the phase's own.
    await store.agents.insert(agentRecord('warm'));
    const warm = await claim(runRecord('warm', minute(1), { status: 'running' }), 'overlap:warm');
    await store.phases.end(warm.run.run_id, ENDED_RUN, {}, { release: warm.lease });
    await store.agents.insert(agentRecord('alpha'));
  });
  afterEach(async () => {
    await Promise.all([store.close(), other.close()]);
    await proxy.close();
    await deleteKeys(admin, prefix);
    await admin.quit();
  });
  /** What `work` answers, and the commands the counted store sent meanwhile. */
  async function sent<T>(work: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
    const from = proxy.commands.length;
    const result = await work();
    return { result, commands: proxy.commands.slice(from) };
  }

  /** Claims `run` under the lease `key`, expecting both taken. */
  async function claim(run = running(), key = KEY) {
    const result = await store.phases.claimLeased(run, {
      key,
      holder: `worker-1/${run.run_id}`,
      ttlMs: MINUTE,
    });
    if (result.outcome !== 'claimed') throw new Error(`not claimed: ${result.outcome}`);
    return { run, lease: result.lease };
  }

  function running() {
    return runRecord('alpha', minute(1), {
      status: 'running',
      started_at: minute(1),
      lease_owner: 'worker-1',
      lease_expires_at: new Date(Date.now() + MINUTE).toISOString(),
    });
  }

  it('claims a run with its lease in one script call, then renews both without a read', async () => {
    const claimed = await sent(() => claim());
    expect(claimed.commands).toEqual(['evalsha']);
    const { run, lease } = claimed.result;
    expect(await other.runs.get(run.run_id)).toEqual(run);
    expect(await other.leases.get(KEY)).toEqual(lease);
    expect((await other.runs.listUnfinished()).map((each) => each.run_id)).toEqual([run.run_id]);

    // The heartbeat after it: both were remembered as written, so neither is read first.
    const beat = await sent(() =>
      Promise.all([
        store.runs.update(run.run_id, { lease_expires_at: minute(9) }, { lease_owner: 'worker-1' }),
        store.leases.renew(KEY, lease.holder, lease.token, MINUTE),
      ]),
    );
    expect(beat.result[0]?.lease_expires_at).toBe(minute(9));
    expect(beat.result[1]).toBe(true);
    expect(beat.commands).toEqual(['evalsha', 'evalsha']);
  });

  it('answers a claim of a run that exists, or under a lease held, in one call', async () => {
    const { run } = await claim();
    const exists = await sent(() =>
      store.phases.claimLeased(run, { key: 'overlap:free', holder: 'worker-2/x', ttlMs: MINUTE }),
    );
    expect(exists).toEqual({ result: { outcome: 'exists' }, commands: ['evalsha'] });
    expect(await other.leases.get('overlap:free')).toBeUndefined();

    const held = await sent(() =>
      store.phases.claimLeased(runRecord('alpha', minute(2)), {
        key: KEY,
        holder: 'worker-2/y',
        ttlMs: MINUTE,
      }),
    );
    expect(held).toEqual({ result: { outcome: 'lease_held' }, commands: ['evalsha'] });
    expect(await other.runs.get(runRecord('alpha', minute(2)).run_id)).toBeUndefined();
  });

  it('ends a claimed run with its stats and release in one script call', async () => {
    const { run, lease } = await claim();
    const ended = await sent(() =>
      store.phases.end(
        run.run_id,
        ENDED_RUN,
        { lease_owner: 'worker-1' },
        { stats: { agent_id: 'alpha', delta: completedRunStats() }, release: lease },
      ),
    );
    expect(ended.commands).toEqual(['evalsha']);
    expect(ended.result.run).toMatchObject({ status: 'completed', lease_owner: null });
    expect(ended.result.agent?.stats).toMatchObject({ run_count: 1, total_tokens: 7 });
    expect(ended.result.released).toBe(true);
    // Stored as answered, with the run's index entries moved.
    expect(await other.runs.get(run.run_id)).toEqual(ended.result.run);
    expect(await other.agents.get('alpha')).toEqual(ended.result.agent);
    expect(await other.leases.get(KEY)).toBeUndefined();
    expect((await other.runs.list('alpha', { status: 'completed' })).map((r) => r.run_id)).toEqual([
      run.run_id,
    ]);
    expect((await other.runs.list('alpha', { status: 'running' })).map((r) => r.run_id)).toEqual(
      [],
    );
    expect((await other.runs.listUnfinished()).map((each) => each.run_id)).not.toContain(
      run.run_id,
    );
  });

  it('reads the agent again, and only it, when another store changed it in between', async () => {
    const { run, lease } = await claim();
    await other.agents.updateStats('alpha', { skipped: 2 });
    await other.agents.update('alpha', { state: 'paused', pause_reason: 'by hand' });
    const ended = await sent(() =>
      store.phases.end(
        run.run_id,
        ENDED_RUN,
        { lease_owner: 'worker-1' },
        { stats: { agent_id: 'alpha', delta: completedRunStats() }, release: lease },
      ),
    );
    // The run and the release in one call; the agent's guess was stale: read, then written.
    expect(ended.commands).toEqual(['evalsha', 'get', 'evalsha']);
    expect(ended.result.run?.status).toBe('completed');
    expect(ended.result.agent).toMatchObject({ state: 'paused', pause_reason: 'by hand' });
    expect(ended.result.agent?.stats).toMatchObject({ run_count: 1, skip_count: 2 });
    expect(ended.result.released).toBe(true);
    expect(await other.agents.get('alpha')).toEqual(ended.result.agent);
    expect(await other.leases.get(KEY)).toBeUndefined();
  });

  it('ends from what is stored when another store changed the run in between', async () => {
    const { run, lease } = await claim();
    await other.runs.update(run.run_id, { usage: { ...run.usage, total_tokens: 40 } });
    const ended = await sent(() =>
      store.phases.end(
        run.run_id,
        ENDED_RUN,
        { lease_owner: 'worker-1' },
        { stats: { agent_id: 'alpha', delta: completedRunStats() }, release: lease },
      ),
    );
    expect(ended.commands[0]).toBe('evalsha');
    expect(ended.commands).toContain('get');
    expect(ended.result.run).toMatchObject({ status: 'completed', usage: { total_tokens: 40 } });
    expect(ended.result.agent?.stats.run_count).toBe(1);
    expect(ended.result.released).toBe(true);
    expect(await other.runs.get(run.run_id)).toEqual(ended.result.run);
    expect((await other.agents.get('alpha'))?.stats.run_count).toBe(1);
    expect(await other.leases.get(KEY)).toBeUndefined();
  });

  it('writes nothing when the run another store took over fails the condition', async () => {
    const { run, lease } = await claim();
    await other.runs.update(run.run_id, { lease_owner: 'worker-2' });
    const ended = await store.phases.end(
      run.run_id,
      ENDED_RUN,
      { lease_owner: 'worker-1' },
      { stats: { agent_id: 'alpha', delta: completedRunStats() }, release: lease },
    );
    expect(ended).toEqual({ run: undefined, agent: undefined, released: false });
    expect((await other.runs.get(run.run_id))?.status).toBe('running');
    expect((await other.agents.get('alpha'))?.stats.run_count).toBe(0);
    expect(await other.leases.get(KEY)).toEqual(lease);
  });
});
