import { systemClock, type Clock } from '../clock.js';
import type { Store } from '../contracts/index.js';
import { maskUrl } from '../../shared/redaction.js';
import type { StorageBackend } from '../storage-backend.js';
import { createRedisAgentStore } from './agent-store.js';
import { createRedisApprovalStore } from './approval-store.js';
import { createRedisBudgetStore } from './budget-store.js';
import {
  connectionName,
  createRedisConnection,
  keyPrefixOf,
  type RedisLocationOptions,
} from './connection.js';
import { createRedisStreamEventLog } from './event-log.js';
import { redisKeys } from './keys.js';
import { createRedisLeaseStore } from './lease-store.js';
import { createRedisMessageStore } from './message-store.js';
import { checkRedisUrl, DEFAULT_REDIS_URL } from './redis-url.js';
import { createRedisRunPhases } from './run-phases.js';
import { createRedisRunStore } from './run-store.js';

export type { RedisLocationOptions } from './connection.js';
export { createRedisStreamEventLog, type RedisStreamEventLogOptions } from './event-log.js';
export { DEFAULT_KEY_PREFIX } from './keys.js';
export { checkRedisUrl, DEFAULT_REDIS_URL, resolveRedisUrl } from './redis-url.js';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions extends RedisLocationOptions {
  /** The clock that stamps records (`updated_at`); default the real one. */
  now?: Clock;
}

/**
 * A {@link Store} in Redis, shareable by any number of processes: inserts are atomic
 * insert-if-absent, and every read-modify-write is a compare-and-set retried on conflict.
 * Connects on first use; an unreachable Redis fails that use with `storage_unavailable`.
 * Throws `config_invalid` when the URL is not a Redis URL.
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const prefix = keyPrefixOf(options);
  const keys = redisKeys(prefix);
  const connection = createRedisConnection(options.url, {
    name: connectionName(prefix, 'store'),
    keys,
    autoPipelining: true,
  });
  const agents = createRedisAgentStore(connection, keys, options.now ?? systemClock);
  const runs = createRedisRunStore(connection, keys);
  const leases = createRedisLeaseStore(connection, keys);
  return {
    agents: agents.store,
    runs: runs.store,
    messages: createRedisMessageStore(connection, keys),
    leases: leases.store,
    phases: createRedisRunPhases(connection, { runs, agents, leases }),
    budgets: createRedisBudgetStore(connection, keys),
    approvals: createRedisApprovalStore(connection, keys),
    description: connection.description,
    close: () => connection.close(),
  };
}

/** The `redis` and `redis_stream` kinds: `redis://` and `rediss://` URLs. */
export const redisBackend: StorageBackend<{ dialect: 'redis'; url: string }> = {
  name: 'redis',
  storeKind: 'redis',
  eventKind: 'redis_stream',
  schemes: ['redis', 'rediss'],
  urlForms: 'redis://[:password@]host[:port][/db] or rediss://…',
  urlSource: { env: 'REDIS_URL', defaultUrl: DEFAULT_REDIS_URL },
  locate(url) {
    checkRedisUrl(url);
    return {
      location: { dialect: 'redis', url },
      description: maskUrl(url),
      openStore: ({ namespace }) => createRedisStore({ url, namespace }),
      openEventLog: ({ namespace, maxEvents }) =>
        createRedisStreamEventLog({ url, namespace, maxEvents }),
    };
  },
};
