import { checkBackendKind } from './backend-kind.js';
import type { Store } from './contracts/index.js';
import {
  databaseLocationFor,
  describeDatabaseLocation,
  type DatabaseUrlOptions,
} from './database-url.js';
import { createMemoryStore } from './memory/index.js';
import { maskUrl } from './mask-url.js';
import { createPostgresStore } from './postgres/index.js';
import { checkRedisUrl, createRedisStore, resolveRedisUrl } from './redis/index.js';
import { createSqliteStore } from './sqlite/index.js';

/** Where the service's memory lives: this process, a database (SQLite / Postgres URL) or Redis. */
export type MemoryBackendKind = 'in_memory' | 'database' | 'redis';

/** Options of {@link MemoryRouter}. */
export interface MemoryRouterOptions extends DatabaseUrlOptions {
  /** Keeps this service's data apart from others on one server: a Postgres schema, a Redis key prefix. */
  namespace?: string;
}

const MEMORY_KINDS: readonly MemoryBackendKind[] = ['in_memory', 'database', 'redis'];
const AVAILABLE_MEMORY_KINDS: readonly MemoryBackendKind[] = ['in_memory', 'database', 'redis'];

/**
 * Chooses the backend of the service's memory (agents, runs, messages, leases) from a
 * kind and a URL, and opens it on `connect()`. Bad kinds and URLs fail on construction.
 */
export class MemoryRouter {
  /** The backend kind. */
  readonly kind: MemoryBackendKind;
  /** Where the memory lives, safe to print (passwords masked). */
  readonly description: string;
  readonly #open: () => Store;
  #store: Store | undefined;

  constructor(kind: MemoryBackendKind, options: MemoryRouterOptions = {}) {
    this.kind = checkBackendKind('memory backend', kind, MEMORY_KINDS, AVAILABLE_MEMORY_KINDS);
    if (this.kind === 'database') {
      const location = databaseLocationFor(options);
      this.description = describeDatabaseLocation(location);
      this.#open =
        location.dialect === 'postgres'
          ? () =>
              createPostgresStore({
                url: location.url,
                // The namespace also names the connections, so an operator can tell them apart.
                ...(options.namespace === undefined
                  ? {}
                  : {
                      schema: options.namespace,
                      pool: { applicationName: `nightshift:${options.namespace}` },
                    }),
              })
          : () => createSqliteStore({ path: location.path });
    } else if (this.kind === 'redis') {
      const url = resolveRedisUrl(options.url, options.env);
      checkRedisUrl(url);
      this.description = maskUrl(url);
      this.#open = () =>
        createRedisStore({
          url,
          ...(options.namespace === undefined ? {} : { prefix: `${options.namespace}:` }),
        });
    } else {
      this.description = 'in_memory';
      this.#open = () => createMemoryStore();
    }
  }

  /** Opens the store; every call until `close()` returns the same one. */
  async connect(): Promise<Store> {
    this.#store ??= this.#open();
    return this.#store;
  }

  /** Closes the store if it is open; a later `connect()` opens a new one. */
  async close(): Promise<void> {
    const store = this.#store;
    this.#store = undefined;
    await store?.close();
  }
}
