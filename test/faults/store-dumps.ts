import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { keysUnder } from '../storage/redis-server.js';

/*
 * Raw dumps of everything a store holds, for the secret scan (promise 8). They read tables and
 * keys directly, not through the store's code, so nothing the store would filter on the way
 * out is missed. Agent definitions are left out: the fleet's own scripts hold the secret (that
 * is how it reaches the runs), and a definition is configuration, not a record of a run.
 */

/** Drops the `definition` of an agent record, keeping the rest of it. */
function withoutDefinition(json: string): string {
  try {
    const record = JSON.parse(json) as Record<string, unknown>;
    delete record.definition;
    return JSON.stringify(record);
  } catch {
    return json;
  }
}

/** Every key under `prefix` and its value, whatever its type. */
export async function dumpRedis(url: string, prefix: string): Promise<string> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  try {
    const keys = await keysUnder(client, prefix);
    const typing = client.pipeline();
    for (const key of keys) typing.type(key);
    const types = ((await typing.exec()) ?? []).map(([, type]) => String(type));
    const reading = client.pipeline();
    keys.forEach((key, index) => {
      const type = types[index];
      if (type === 'string') reading.get(key);
      else if (type === 'list') reading.lrange(key, 0, -1);
      else if (type === 'set') reading.smembers(key);
      else if (type === 'zset') reading.zrange(key, '0', '-1');
      else if (type === 'hash') reading.hgetall(key);
      else if (type === 'stream') reading.xrange(key, '-', '+');
      else reading.echo(`(a ${type})`);
    });
    const values = ((await reading.exec()) ?? []).map(([, value]) => value);
    const agentPrefix = `${prefix}agent:`;
    return JSON.stringify(
      keys.map((key, index) => {
        const value = values[index];
        return [
          key,
          key.startsWith(agentPrefix) && typeof value === 'string'
            ? withoutDefinition(value)
            : value,
        ];
      }),
    );
  } finally {
    client.disconnect();
  }
}

/** Every row of every table in `schema`. */
export async function dumpPostgres(url: string, schema: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    const dump: unknown[] = [];
    for (const { table_name: table } of tables.rows) {
      const quoted = `"${schema.replace(/"/g, '""')}"."${table.replace(/"/g, '""')}"`;
      const rows = await client.query<{ row: string }>(
        `SELECT (to_jsonb(t) - 'definition')::text AS row FROM ${quoted} t`,
      );
      dump.push([table, rows.rows.map((row) => row.row)]);
    }
    return JSON.stringify(dump);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Every row of every table in the SQLite file at `path` (opened read-only). */
export function dumpSqlite(path: string): string {
  const database = new Database(path, { readonly: true, fileMustExist: true });
  try {
    database.pragma('busy_timeout = 10000');
    const tables = database
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .all() as { name: string }[];
    return JSON.stringify(
      tables.map(({ name }) => {
        const rows = database
          .prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`)
          .all() as Record<string, unknown>[];
        for (const row of rows) delete row.definition;
        return [name, rows];
      }),
    );
  } finally {
    database.close();
  }
}
