import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { resolveRedisUrl } from '../../storage/index.js';
import { backoffDelayMs } from '../../shared/backoff.js';
import { checkRedisUrl } from '../../storage/redis/index.js';
import { abortableSleep } from '../abortable-sleep.js';
import {
  checkModelRequestLimits,
  type ModelRequestLimiter,
  type ModelRequestLimits,
} from '../model-request-limiter.js';

/** Options of {@link createRedisModelRequestLimiter}. */
export interface RedisModelRequestLimiterOptions {
  /** Caps per provider name (`model_config.provider`), fleet-wide. */
  limits: ModelRequestLimits;
  /** Default: `REDIS_URL`, else `redis://127.0.0.1:6379`. */
  url?: string;
  /** Key prefix; processes of one fleet share it. Default `nightshift`. */
  prefix?: string;
  /**
   * How long a slot lasts unless its holder renews it (every third of this): a killed process's
   * slots come back after it. Default 30,000 ms.
   */
  slotTtlMs?: number;
  /** Longest pause between two tries for a slot. Default 250 ms. */
  maxPollMs?: number;
  /** The environment `REDIS_URL` is read from. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Takes a slot when fewer than the cap are held (expired ones are dropped first), by Redis's own
 * clock, so machines whose clocks differ agree on what has expired.
 */
const ACQUIRE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1
`;

/** Extends a slot still held. */
const RENEW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return renewed
`;

/** The first pause between two tries for a slot; each later one doubles, up to `maxPollMs`. */
const FIRST_POLL_MS = 5;

interface SlotCommands {
  nightshiftAcquireSlot(key: string, limit: number, ttlMs: number, token: string): Promise<number>;
  nightshiftRenewSlot(key: string, ttlMs: number, token: string): Promise<number>;
}

/**
 * A fleet-wide cap on model requests in flight per provider: a semaphore in Redis (a sorted set
 * of slots per provider, each expiring unless renewed). Waiters poll with a growing pause, so
 * the cap is strict but the order is not first-come, first-served.
 */
export function createRedisModelRequestLimiter(
  options: RedisModelRequestLimiterOptions,
): ModelRequestLimiter {
  checkModelRequestLimits(options.limits);
  const url = resolveRedisUrl(options.url, options.env);
  checkRedisUrl(url);
  const prefix = options.prefix ?? 'nightshift';
  const ttlMs = options.slotTtlMs ?? 30_000;
  const maxPollMs = options.maxPollMs ?? 250;
  // ioredis is loaded with the first slot asked for, not with the package.
  let connecting: Promise<Redis & SlotCommands> | undefined;
  const connect = () =>
    (connecting ??= import('ioredis').then(({ Redis }) => {
      const client = new Redis(url, {
        connectionName: `${prefix}:model-slots`,
        maxRetriesPerRequest: 5,
      }) as Redis & SlotCommands;
      // Without a listener, an `error` event (every failed reconnect emits one) would throw.
      client.on('error', () => undefined);
      client.defineCommand('nightshiftAcquireSlot', { numberOfKeys: 1, lua: ACQUIRE });
      client.defineCommand('nightshiftRenewSlot', { numberOfKeys: 1, lua: RENEW });
      return client;
    }));
  const held = new Set<NodeJS.Timeout>();
  const keyOf = (provider: string) => `${prefix}:model-slots:${provider}`;

  return {
    async acquire(provider, signal) {
      const limit = options.limits[provider];
      if (limit === undefined) return () => undefined;
      const key = keyOf(provider);
      const client = await connect();
      const token = randomBytes(8).toString('hex');
      for (let attempt = 1; ; attempt += 1) {
        if (signal?.aborted) throw signal.reason;
        if ((await client.nightshiftAcquireSlot(key, limit, ttlMs, token)) === 1) break;
        const pauseMs = backoffDelayMs(attempt, { firstMs: FIRST_POLL_MS, maxMs: maxPollMs });
        // Jittered, so waiters of many processes do not try in lockstep.
        await abortableSleep(pauseMs / 2 + Math.random() * (pauseMs / 2), signal);
      }
      const renewal = setInterval(
        () => void client.nightshiftRenewSlot(key, ttlMs, token).catch(() => undefined),
        Math.max(50, Math.floor(ttlMs / 3)),
      );
      renewal.unref();
      held.add(renewal);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        clearInterval(renewal);
        held.delete(renewal);
        void client.zrem(key, token).catch(() => undefined);
      };
    },
    async close() {
      for (const renewal of held) clearInterval(renewal);
      held.clear();
      if (!connecting) return;
      const client = await connecting.catch(() => undefined);
      await client?.quit().catch(() => undefined);
    },
  };
}
