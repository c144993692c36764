import type { Store } from '../contracts/index.js';
import { createRedisAgentStore } from './agent-store.js';
import { connectionName, createRedisConnection } from './client.js';
import { DEFAULT_KEY_PREFIX, redisKeys } from './keys.js';
import { createRedisLeaseStore } from './lease-store.js';
import { createRedisMessageStore } from './message-store.js';
import { createRedisRunStore } from './run-store.js';

export { createRedisStreamEventLog, type RedisStreamEventLogOptions } from './event-log.js';
export { DEFAULT_KEY_PREFIX } from './keys.js';
export { checkRedisUrl, DEFAULT_REDIS_URL, resolveRedisUrl } from './redis-url.js';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[:password@]host[:port][/db]` or `rediss://…`. */
  url: string;
  /** Prefix of every key (default `nightshift:`), so several deployments can share a Redis. */
  prefix?: string;
}

/**
 * A {@link Store} in Redis, shareable by any number of processes: inserts are atomic
 * insert-if-absent, and every read-modify-write is a compare-and-set retried on conflict.
 * Connects on first use; an unreachable Redis fails that use with `storage_unavailable`.
 * Throws `config_invalid` when the URL is not a Redis URL.
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const keys = redisKeys(prefix);
  const connection = createRedisConnection(options.url, {
    name: connectionName(prefix, 'store'),
    keys,
    autoPipelining: true,
  });
  return {
    agents: createRedisAgentStore(connection, keys),
    runs: createRedisRunStore(connection, keys),
    messages: createRedisMessageStore(connection, keys),
    leases: createRedisLeaseStore(connection, keys),
    description: connection.description,
    close: () => connection.close(),
  };
}
