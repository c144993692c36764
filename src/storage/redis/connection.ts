import { Redis } from 'ioredis';
import { errorMessage, NightshiftError } from '../../errors.js';
import { backoffDelayMs } from '../../shared/backoff.js';
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
  /** The client. Commands sent while it reconnects wait in its offline queue, in order. */
  readonly client: Redis;
  /** The backend's Lua scripts, bound to this client. */
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
 * A lazily connecting ioredis client. The first connection fails fast (no retries), so
 * a wrong URL is reported at first use as `storage_unavailable`; once connected, a
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

  const client = new Redis(url, {
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
  client.on('error', (error: unknown) => {
    lastConnectionError = error;
  });
  client.on('ready', () => {
    connectedOnce = true;
    lastConnectionError = undefined;
  });

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

  return {
    client,
    scripts: defineScripts(client, options.keys),
    description,

    run(send) {
      if (closed) {
        return Promise.reject(
          new NightshiftError(
            'storage_unavailable',
            `the Redis connection to ${description} is closed`,
          ),
        );
      }
      // A client whose first connection failed has ended; try again for this caller.
      if (client.status === 'end') client.connect().catch(() => undefined);
      try {
        return send(client).catch((error: unknown) => {
          throw unavailable(error);
        });
      } catch (error) {
        return Promise.reject(unavailable(error));
      }
    },

    async close() {
      if (closed) return;
      closed = true;
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
      client.disconnect();
    },
  };
}
