import type { EventLog } from './contracts/event-log.js';
import type { Store } from './contracts/index.js';

/** Where the service's memory lives: this process, a database (SQLite / Postgres URL) or Redis. */
export type MemoryBackendKind = 'in_memory' | 'database' | 'redis';

/** Where the event log lives: this process, a database (SQLite / Postgres URL) or a Redis stream. */
export type EventBackendKind = 'in_memory' | 'database' | 'redis_stream';

/** The settings a router hands a backend's factories, named alike for every backend. */
export interface BackendOptions {
  /** Keeps this service's data apart from others on one server: a Postgres schema, a Redis key prefix. */
  namespace?: string;
  /** Events kept (default: 10,000 in memory, 100,000 in a database or a Redis stream). */
  maxEvents?: number;
  /**
   * How often a database log looks for other processes' events: SQLite polls (default 200 ms);
   * Postgres is told by NOTIFY and polls only as a safety net (default 1 s).
   */
  pollIntervalMs?: number;
}

/** A backend pointed at one place: how it prints, and its two factories. */
export interface BackendTarget<Location = unknown> {
  /** What the URL named, understood (a {@link DatabaseLocation} for database backends). */
  readonly location: Location;
  /** Where the data lives, safe to print (passwords masked). */
  readonly description: string;
  /** Opens the store of agents, runs, messages and leases. */
  openStore(options: BackendOptions): Store;
  /** Opens the event log. */
  openEventLog(options: BackendOptions): EventLog;
}

/** Where a router finds a backend's URL when it is given none. */
export interface BackendUrlSource {
  /** The environment variable read (`DATABASE_URL`, `REDIS_URL`). */
  env: string;
  /** The URL used when the variable is unset too; the first backend of a kind to give one wins. */
  defaultUrl?: string;
}

/**
 * One storage backend as the routers see it: the router kinds that choose it, the URL
 * schemes it opens and how it reads them. Each backend folder's `index.ts` exports one, and
 * `backend-registry.ts` lists them.
 */
export interface StorageBackend<Location = unknown> {
  /** The backend's name, as in its folder (`sqlite`). */
  readonly name: string;
  /** The memory router kind that chooses it. */
  readonly storeKind: MemoryBackendKind;
  /** The event router kind that chooses it. */
  readonly eventKind: EventBackendKind;
  /**
   * The URL schemes it opens, lowercase and without the colon; `''` also takes a plain file
   * path. Empty for a backend without a URL (in_memory).
   */
  readonly schemes: readonly string[];
  /** How its URLs are written, for the error naming an unknown scheme. */
  readonly urlForms: string;
  /** Where its URL comes from when a router is given none; none for a backend without a URL. */
  readonly urlSource?: BackendUrlSource;
  /** Reads a URL of one of its schemes; throws `config_invalid` naming the `url` field. */
  locate(url: string, cwd: string): BackendTarget<Location>;
}
