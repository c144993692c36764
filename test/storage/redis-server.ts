import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { errorMessage } from '../../src/errors.js';
import { resolveRedisUrl } from '../../src/storage/redis/index.js';

/** The Redis the tests use: `REDIS_URL`, else the default local server. */
export const REDIS_URL = resolveRedisUrl(undefined);

/** Whether a Redis answers at `url`, and if not, why. */
export async function probeRedis(
  url: string = REDIS_URL,
): Promise<{ available: true } | { available: false; reason: string }> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The socket's error says more than the "Connection is closed." the command fails with.
  let connectionError: unknown;
  client.on('error', (error: unknown) => {
    connectionError = error;
  });
  try {
    await client.ping();
    return { available: true };
  } catch (error) {
    return { available: false, reason: errorMessage(connectionError ?? error) };
  } finally {
    client.disconnect();
  }
}

/** A key prefix no other test uses. */
export function freshPrefix(): string {
  return `nightshift-test:${randomUUID()}:`;
}

/** The keys under `prefix`, sorted (SCAN, so it never blocks the server). */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found.sort();
}

/** Deletes every key under `prefix`. Never FLUSHDB: other suites share this Redis. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  for (let start = 0; start < keys.length; start += 1_000) {
    await client.unlink(...keys.slice(start, start + 1_000));
  }
}

/** The id of the connection named `name` (set by CLIENT SETNAME), if one is open. */
export async function clientIdNamed(client: Redis, name: string): Promise<string | undefined> {
  const list = (await client.client('LIST')) as string;
  for (const line of list.split('\n')) {
    const fields = new Map(
      line
        .trim()
        .split(' ')
        .map((field) => {
          const equals = field.indexOf('=');
          return [field.slice(0, equals), field.slice(equals + 1)] as const;
        }),
    );
    if (fields.get('name') === name) return fields.get('id');
  }
  return undefined;
}

/** A TCP proxy in front of Redis that can lose a reply together with its connection. */
export interface FaultyProxy {
  /** The Redis URL through the proxy (same password and database). */
  url: string;
  /** Forwards the next script call (EVAL/EVALSHA), then drops its reply and the connection. */
  loseNextScriptReply(): void;
  /** Script calls (EVALSHA) sent through the proxy so far, as far as it can tell (at most that). */
  scriptCalls(): number;
  close(): Promise<void>;
}

/** A TCP proxy in front of Redis (see {@link startRedisProxy}). */
export interface RedisProxy {
  /** The Redis URL through the proxy (same password and database). */
  url: string;
  close(): Promise<void>;
}

/** What a {@link startRedisProxy} does with the bytes it forwards. */
export interface ProxyHandlers {
  /** Sees each chunk a client sends, before it is forwarded to Redis. */
  request?(chunk: Buffer): void;
  /** Sees each chunk of Redis's replies; false drops the client's connection instead of forwarding it. */
  reply?(chunk: Buffer): boolean;
}

/**
 * Starts a TCP proxy to the Redis at `url`: one upstream connection per client connection,
 * each with the handlers `handlersFor()` makes for it.
 */
export async function startRedisProxy(
  url: string,
  handlersFor: () => ProxyHandlers,
): Promise<RedisProxy> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  const server = createServer((downstream) => {
    const handlers = handlersFor();
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.on('data', (chunk: Buffer) => {
      handlers.request?.(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (handlers.reply?.(chunk) === false) downstream.destroy();
      else downstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String((server.address() as AddressInfo).port);
  return {
    url: proxied.toString(),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Starts a {@link FaultyProxy} to `url`: a write reaches Redis and is applied, but the
 * client never hears so, as when a network drops mid-reply.
 */
export async function startFaultyProxy(url: string = REDIS_URL): Promise<FaultyProxy> {
  let armed = false;
  let scripts = 0;
  const proxy = await startRedisProxy(url, () => {
    // This connection's next reply is lost, and the connection with it.
    let losing = false;
    return {
      request(chunk) {
        scripts += chunk.toString('latin1').match(/\r\nevalsha\r\n/gi)?.length ?? 0;
        if (armed && /\r\n(evalsha|eval)\r\n/i.test(chunk.toString('latin1'))) {
          armed = false;
          losing = true;
        }
      },
      reply: () => !losing,
    };
  });
  return {
    ...proxy,
    loseNextScriptReply() {
      armed = true;
    },
    scriptCalls: () => scripts,
  };
}
