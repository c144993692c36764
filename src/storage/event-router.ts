import { checkBackendKind } from './backend-kind.js';
import type { EventLog } from './contracts/index.js';
import {
  databaseLocationFor,
  describeDatabaseLocation,
  type DatabaseUrlOptions,
} from './database-url.js';
import { createMemoryEventLog } from './memory/index.js';
import { maskUrl } from './mask-url.js';
import { createPostgresEventLog } from './postgres/index.js';
import { checkRedisUrl, createRedisStreamEventLog, resolveRedisUrl } from './redis/index.js';
import { createSqliteEventLog } from './sqlite/index.js';

/** Where the event log lives: this process, a database (SQLite / Postgres URL) or a Redis stream. */
export type EventBackendKind = 'in_memory' | 'database' | 'redis_stream';

/** Options of {@link EventRouter}. */
export interface EventRouterOptions extends DatabaseUrlOptions {
  /** Keeps this service's events apart from others on one server: a Postgres schema, a Redis key prefix. */
  namespace?: string;
  /** Events kept (default: 10,000 in memory, 100,000 in a database or a Redis stream). */
  maxEvents?: number;
  /**
   * How often a database log looks for other processes' events: SQLite polls (default 200 ms);
   * Postgres is told by NOTIFY and polls only as a safety net (default 1 s).
   */
  pollIntervalMs?: number;
}

const EVENT_KINDS: readonly EventBackendKind[] = ['in_memory', 'database', 'redis_stream'];
const AVAILABLE_EVENT_KINDS: readonly EventBackendKind[] = [
  'in_memory',
  'database',
  'redis_stream',
];

/**
 * Chooses the backend of the event log from a kind and a URL, and opens it on
 * `connect()`. Bad kinds and URLs fail on construction.
 */
export class EventRouter {
  /** The backend kind. */
  readonly kind: EventBackendKind;
  /** Where the log lives, safe to print (passwords masked). */
  readonly description: string;
  readonly #open: () => EventLog;
  #log: EventLog | undefined;

  constructor(kind: EventBackendKind, options: EventRouterOptions = {}) {
    this.kind = checkBackendKind('event backend', kind, EVENT_KINDS, AVAILABLE_EVENT_KINDS);
    const { maxEvents, pollIntervalMs } = options;
    if (this.kind === 'database') {
      const location = databaseLocationFor(options);
      this.description = describeDatabaseLocation(location);
      this.#open =
        location.dialect === 'postgres'
          ? () =>
              createPostgresEventLog({
                url: location.url,
                // The namespace also names the connections, so an operator can tell them apart.
                ...(options.namespace === undefined
                  ? {}
                  : {
                      schema: options.namespace,
                      pool: { applicationName: `nightshift:${options.namespace}` },
                    }),
                ...(maxEvents === undefined ? {} : { maxEvents }),
                ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
              })
          : () => createSqliteEventLog({ path: location.path, maxEvents, pollIntervalMs });
    } else if (this.kind === 'redis_stream') {
      const url = resolveRedisUrl(options.url, options.env);
      checkRedisUrl(url);
      this.description = maskUrl(url);
      this.#open = () =>
        createRedisStreamEventLog({
          url,
          ...(options.namespace === undefined ? {} : { prefix: `${options.namespace}:` }),
          ...(maxEvents === undefined ? {} : { maxLen: maxEvents }),
        });
    } else {
      this.description = 'in_memory';
      this.#open = () => createMemoryEventLog({ maxEvents });
    }
  }

  /** Opens the log; every call until `close()` returns the same one. */
  async connect(): Promise<EventLog> {
    this.#log ??= this.#open();
    return this.#log;
  }

  /** Closes the log if it is open; a later `connect()` opens a new one. */
  async close(): Promise<void> {
    const log = this.#log;
    this.#log = undefined;
    await log?.close();
  }
}
