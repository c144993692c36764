/**
 * The Postgres and Redis servers the suites measure against. Other processes use them too, so
 * each measurement works in a namespace of its own (a Postgres schema, a Redis key prefix) and
 * removes it afterwards; a server that does not answer is skipped, with the reason.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { maskUrl } from '../src/index.js';

/** A server shared with other processes. */
export type SharedServer = 'postgres' | 'redis';

/** How long a probe waits for a server to answer. */
const PROBE_TIMEOUT_MS = 3_000;
/** Keys removed per UNLINK while cleaning a Redis prefix up. */
const UNLINK_BATCH = 1_000;

/** `DATABASE_URL` when it names a Postgres database, else the local test database. */
export function postgresUrl(): string {
  const url = process.env.DATABASE_URL;
  return url && /^postgres(ql)?:\/\//i.test(url) ? url : 'postgres://postgres@127.0.0.1:5432/test';
}

/** `REDIS_URL`, else the local Redis. */
export function redisUrl(): string {
  return process.env.REDIS_URL || 'redis://127.0.0.1:6379';
}

/** The server's URL with any password masked. */
export function describeServer(server: SharedServer): string {
  return maskUrl(server === 'postgres' ? postgresUrl() : redisUrl());
}

/**
 * A fresh namespace: a valid Postgres schema name, and (with `:`) a Redis key prefix no other
 * process uses.
 */
export function freshNamespace(purpose: string): string {
  return `bench_${purpose}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0)
    return error.errors.map(reasonOf).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

/** Why the server cannot be used (it does not answer in time), or undefined when it answers. */
export async function unavailableReason(server: SharedServer): Promise<string | undefined> {
  // ioredis rejects with "Connection is closed." and reports the cause as an `error` event.
  let cause: unknown;
  try {
    if (server === 'postgres') {
      const client = new pg.Client({
        connectionString: postgresUrl(),
        connectionTimeoutMillis: PROBE_TIMEOUT_MS,
        query_timeout: PROBE_TIMEOUT_MS,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
      } finally {
        await client.end().catch(() => undefined);
      }
    } else {
      const client = new Redis(redisUrl(), {
        lazyConnect: true,
        connectTimeout: PROBE_TIMEOUT_MS,
        commandTimeout: PROBE_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      client.on('error', (error: unknown) => {
        cause ??= error;
      });
      try {
        await client.connect();
        await client.ping();
      } finally {
        client.disconnect();
      }
    }
    return undefined;
  } catch (error) {
    return `${describeServer(server)} does not answer: ${reasonOf(cause ?? error)}`;
  }
}

/**
 * Removes everything the namespace holds: its Postgres schema, or its Redis keys (SCAN and
 * UNLINK of the prefix, never a flush). Safe to call when nothing was created.
 */
export async function removeNamespace(server: SharedServer, namespace: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(namespace)) throw new Error(`not a bench namespace: ${namespace}`);
  if (server === 'postgres') {
    const client = new pg.Client({ connectionString: postgresUrl() });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(namespace)} CASCADE`);
    } finally {
      await client.end();
    }
    return;
  }
  const client = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1_000);
      cursor = next;
      for (let start = 0; start < keys.length; start += UNLINK_BATCH)
        await client.unlink(...keys.slice(start, start + UNLINK_BATCH));
    } while (cursor !== '0');
  } finally {
    await client.quit().catch(() => client.disconnect());
  }
}
