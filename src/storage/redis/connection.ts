import type { Redis } from 'ioredis';
import { errorMessage, NightshiftError } from '../../errors.js';
import { backoffDelayMs } from '../../shared/backoff.js';
import { lazyModule } from '../../shared/lazy-module.js';
import { maskUrl } from '../../shared/redaction.js';
import { DEFAULT_KEY_PREFIX, type RedisKeys } from './keys.js';
import { checkRedisUrl } from './redis-url.js';
import { defineScripts, type RedisScripts } from './scripts.js';

/** How long a connection attempt may take before it counts as failed. */
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * Reconnection attempts a command waits through before it fails. With the backoff below
 * that is about three seconds without Redis: long enough to ride out a restart, short
 * enough that a caller hears `storage_unavailable` rather than hanging.
 */
const MAX_RETRIES_PER_REQUEST = 5;
const FIRST_RECONNECT_DELAY_MS = 100;
const MAX_RECONNECT_DELAY_MS = 3_000;

/** ioredis, loaded by the first command of the first Redis connection. */
const ioredis = lazyModule(() => import('ioredis'));

/** Where a Redis store or event log keeps its keys. */
export interface RedisLocationOptions {
  /** `redis://[:password@]host[:port][/db]` or `rediss://…`. */
  url: string;
  /**
   * Keeps several deployments apart on one Redis: every key starts with `<namespace>:`
   * (default `nightshift`).
   */
  namespace?: string;
  /**
   * @deprecated Use {@link RedisLocationOptions.namespace}, the name every backend uses:
   * `prefix: 'name:'` is `namespace: 'name'`. The literal start of every key.
   */
  prefix?: string;
}

/** The start of every key: `<namespace>:`, else the deprecated `prefix`, else `nightshift:`. */
export function keyPrefixOf(options: RedisLocationOptions): string {
  if (options.namespace !== undefined) return `${options.namespace}:`;
  return options.prefix ?? DEFAULT_KEY_PREFIX;
}

/** Options of {@link createRedisConnection}. */
export interface RedisConnectionOptions {
  /** Shown by `CLIENT LIST`, so operators (and tests) can tell the connections apart. */
  name: string;
  /** The keys the scripts write their receipts under. */
  keys: RedisKeys;
  /**
   * Drop the socket when a command waits this long for any byte. For the blocking tail,
   * whose reads return at least every few seconds, it notices a silently dead peer.
   */
  socketTimeoutMs?: number;
  /**
   * Send the commands issued in one turn of the event loop in one write (default false). It
   * saves the store's syscalls when a fleet of runs writes at once; it costs each command a
   * little latency, which an event log's appends (awaited one after another) feel most.
   */
  autoPipelining?: boolean;
}

/** One ioredis connection, as the stores and event logs use it. */
export interface RedisConnection {
  /**
   * The backend's Lua scripts, bound to this connection's client. Called inside a `run()`
   * callback, where the client exists and `run`'s error handling applies.
   */
  readonly scripts: RedisScripts;
  /** The URL with its password masked, safe to print. */
  readonly description: string;
  /**
   * Sends commands through `send`, which is called at once (so commands leave in call
   * order), turning a refused or lost connection into `storage_unavailable`.
   */
  run<T>(send: (client: Redis) => Promise<T>): Promise<T>;
  /** Waits for replies still due, then closes; idempotent. */
  close(): Promise<void>;
  /** Closes at once, failing commands in flight (such as a blocked XREAD); idempotent. */
  disconnect(): void;
}

/**
 * The name a connection shows in `CLIENT LIST`: the key prefix and the connection's role
 * (`nightshift:store`, `nightshift:events-tail`). Redis refuses spaces in names.
 */
export function connectionName(prefix: string, role: string): string {
  return `${prefix}${role}`.replace(/\s/g, '_');
}

/**
 * A lazily connecting ioredis client, made (and ioredis loaded) at the first `run()`. The
 * first connection fails fast (no retries), so a wrong URL is reported at first use as
 * `storage_unavailable`; once connected, a
 * dropped connection is retried with backoff for as long as the client lives, and its
 * errors are recorded for the next failure message rather than crashing the process.
 *
 * ioredis resends a command that was in flight when the connection dropped (turning
 * that off leaves such commands unanswered for good), so every write is a script that
 * keeps a receipt and answers a resend with its first outcome (see `scripts.ts`).
 */
export function createRedisConnection(
  url: string,
  options: RedisConnectionOptions,
): RedisConnection {
  checkRedisUrl(url);
  const description = maskUrl(url);
  let connectedOnce = false;
  let lastConnectionError: unknown;
  let closed = false;
  // Made by the first `run()`, once ioredis is loaded: a process that never uses Redis never
  // loads it. Commands sent while it reconnects wait in its offline queue, in order.
  let client: Redis | undefined;
  let scripts: RedisScripts | undefined;
  let opening: Promise<Redis> | undefined;
  /** Sends waiting for the client to be made. */
  let waiting = 0;

  function closedError(): NightshiftError {
    return new NightshiftError(
      'storage_unavailable',
      `the Redis connection to ${description} is closed`,
    );
  }

  function makeClient(RedisClient: typeof Redis): Redis {
    const made = new RedisClient(url, {
      lazyConnect: true,
      connectionName: options.name,
      connectTimeout: CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
      socketTimeout: options.socketTimeoutMs,
      enableAutoPipelining: options.autoPipelining ?? false,
      retryStrategy: (attempt) =>
        connectedOnce
          ? backoffDelayMs(attempt, {
              firstMs: FIRST_RECONNECT_DELAY_MS,
              maxMs: MAX_RECONNECT_DELAY_MS,
            })
          : null,
    });
    // Without a listener, an `error` event (every failed reconnect emits one) would throw.
    made.on('error', (error: unknown) => {
      lastConnectionError = error;
    });
    made.on('ready', () => {
      connectedOnce = true;
      lastConnectionError = undefined;
    });
    scripts = defineScripts(made, options.keys);
    client = made;
    return made;
  }

  /** The client, made on first call; callers awaiting it resume in call order. */
  function open(): Promise<Redis> {
    opening ??= ioredis.load().then(
      ({ Redis }) => makeClient(Redis),
      (error: unknown) => {
        opening = undefined;
        throw error;
      },
    );
    return opening;
  }

  function unavailable(error: unknown): NightshiftError {
    if (NightshiftError.isInstance(error)) return error;
    // "Connection is closed." says less than the socket error that closed it.
    const reason = errorMessage(lastConnectionError ?? error);
    // The cause is rebuilt from the message: ioredis errors can carry the command's
    // arguments, and the handshake's arguments include the password.
    return new NightshiftError('storage_unavailable', `Redis at ${description}: ${reason}`, {
      cause: new Error(reason),
      details: { url: description },
    });
  }

  function sendOn<T>(made: Redis, send: (client: Redis) => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(closedError());
    // A client whose first connection failed has ended; try again for this caller.
    if (made.status === 'end') made.connect().catch(() => undefined);
    try {
      return send(made).catch((error: unknown) => {
        throw unavailable(error);
      });
    } catch (error) {
      return Promise.reject(unavailable(error));
    }
  }

  return {
    get scripts(): RedisScripts {
      if (!scripts)
        throw new Error('Redis scripts are called inside run(), once the client is made');
      return scripts;
    },
    description,

    run(send) {
      if (closed) return Promise.reject(closedError());
      // At once, unless sends made before the client existed are still waiting for it: they
      // go first, so commands leave in call order (a log's "newest id" read relies on it).
      if (client && waiting === 0) return sendOn(client, send);
      waiting += 1;
      return open().then(
        (made) => {
          waiting -= 1;
          return sendOn(made, send);
        },
        (error: unknown) => {
          waiting -= 1;
          return Promise.reject(unavailable(error));
        },
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      if (!client) return;
      if (client.status !== 'ready') {
        client.disconnect();
        return;
      }
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },

    disconnect() {
      closed = true;
      client?.disconnect();
    },
  };
}
