/**
 * Storage: one contract per domain (agents, runs, messages, leases, events), the
 * backends that keep them, and the routers that choose a backend from configuration.
 */
export * from './contracts/index.js';
export { MemoryRouter, type MemoryBackendKind, type MemoryRouterOptions } from './memory-router.js';
export { EventRouter, type EventBackendKind, type EventRouterOptions } from './event-router.js';
export {
  DEFAULT_DATABASE_URL,
  parseDatabaseUrl,
  resolveDatabaseUrl,
  type DatabaseLocation,
  type DatabaseUrlOptions,
} from './database-url.js';
export { maskUrl } from '../shared/redaction.js';
export type { ErrorReporter } from './report-error.js';
export {
  createMemoryEventLog,
  createMemoryStore,
  type MemoryEventLogOptions,
  type MemoryStoreOptions,
} from './memory/index.js';
export {
  createPostgresEventLog,
  createPostgresStore,
  type PostgresConnectionOptions,
  type PostgresEventLogOptions,
  type PostgresPoolOptions,
  type PostgresStoreOptions,
} from './postgres/index.js';
export {
  createRedisStore,
  createRedisStreamEventLog,
  resolveRedisUrl,
  type RedisLocationOptions,
  type RedisStoreOptions,
  type RedisStreamEventLogOptions,
} from './redis/index.js';
export {
  createSqliteEventLog,
  createSqliteStore,
  type SqliteConnectionOptions,
  type SqliteEventLogOptions,
  type SqliteStoreOptions,
} from './sqlite/index.js';
