import { createHash } from 'node:crypto';
import type pg from 'pg';
import { NightshiftError } from '../../errors.js';
import { pgDriver } from '../../shared/pg-driver.js';
import { maskUrl, urlPasswords } from '../../shared/redaction.js';
import { isConnectionError, unavailableError } from './connection-error.js';
import { migrate } from './migrations.js';

/** Where a Postgres store or event log keeps its tables. */
export interface PostgresConnectionOptions {
  /** A `postgres://` or `postgresql://` URL. */
  url: string;
  /** The schema holding Nightshift's tables, created when missing (default `public`). */
  namespace?: string;
  /** @deprecated Use {@link PostgresConnectionOptions.namespace}, the name every backend uses. */
  schema?: string;
  /** Settings of the connection pool. */
  pool?: PostgresPoolOptions;
}

/** Settings of the connection pool behind a Postgres store or event log. */
export interface PostgresPoolOptions {
  /** Most connections open at once (default 10). */
  max?: number;
  /** How long to wait for a new connection before failing with `storage_unavailable` (default 10 s). */
  connectionTimeoutMs?: number;
  /** Shown as `application_name` in `pg_stat_activity` (default `nightshift`). */
  applicationName?: string;
  /**
   * Share one pool per URL and settings within this process (default true). `false` opens a
   * pool of its own, as another process would: for tests of cross-process behaviour.
   */
  shared?: boolean;
}

/**
 * A statement run by name: Postgres parses and plans it once per connection, then only binds
 * and runs it. It names its columns rather than `*`: a column added by a later migration
 * (another process upgrading first) would change its result type, which Postgres refuses.
 */
export interface PreparedStatement {
  /** Derived from the text, so one name always means one text, whoever prepared it. */
  readonly name: string;
  readonly text: string;
}

/** A statement as `read` and `write` take it: text parsed on every run, or prepared. */
export type Statement = string | PreparedStatement;

/** One user's hold on a pool, bound to one schema. */
export interface PostgresDatabase {
  /** The schema's name, unquoted. */
  readonly schema: string;
  /** The URL with its password masked, and the schema. */
  readonly description: string;
  /** The pool; event logs sharing one hand each other their appends at once. */
  readonly pool: pg.Pool;
  /** Settings for a connection of its own, outside the pool (the event log's LISTEN). */
  readonly clientConfig: pg.ClientConfig;
  /** The schema-qualified, quoted name of a table. */
  table(name: string): string;
  /** `text` as a {@link PreparedStatement}, for statements run often. */
  prepare(text: string): PreparedStatement;
  /**
   * Runs a statement that changes nothing. If its pooled connection turns out dead (the
   * server restarted, an admin terminated it), it runs once more on a fresh one.
   */
  read<Row extends pg.QueryResultRow>(
    statement: Statement,
    values?: readonly unknown[],
  ): Promise<pg.QueryResult<Row>>;
  /**
   * Runs a statement that may change data, atomic on its own. It is not repeated when the
   * connection dies mid-way (unless it was never sent): whether it took effect is unknown.
   */
  write<Row extends pg.QueryResultRow>(
    statement: Statement,
    values?: readonly unknown[],
  ): Promise<pg.QueryResult<Row>>;
  /**
   * Runs `work` in a transaction on one connection: committed if it resolves, rolled back
   * if not. Run once more, on a fresh connection, if the connection dies before COMMIT is
   * sent: the server has rolled the first attempt back, so nothing is applied twice.
   */
  transaction<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T>;
  /** `storage_unavailable` for errors that mean the database is out of reach; others unchanged. */
  storageError(error: unknown): unknown;
  /** Gives the hold back, ending the pool with its last user; idempotent. */
  release(): Promise<void>;
}

const DEFAULT_SCHEMA = 'public';
const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
const DEFAULT_APPLICATION_NAME = 'nightshift';
/** Idle connections close after this long, so a quiet process holds none. */
const IDLE_TIMEOUT_MS = 10_000;
/** Postgres names are at most 63 bytes; the event channel adds this prefix to the schema. */
const CHANNEL_PREFIX = 'nightshift_events_';
const SCHEMA_PATTERN = new RegExp(`^[a-z_][a-z0-9_]{0,${62 - CHANNEL_PREFIX.length}}$`);

interface SharedPool {
  pool: pg.Pool;
  users: number;
  /** False once the server refused a prepared statement: the pool runs them as plain text. */
  prepares: boolean;
}

/**
 * Errors of a prepared statement that mean nothing ran: the server connection lacks the
 * statement (26000), or already has one of its name (42P05). A pooler in transaction mode
 * that does not keep prepared statements (PgBouncer before 1.21) hands out such connections.
 */
const UNPREPARED_CODES = new Set(['26000', '42P05']);

/** Pools by URL and settings, shared by every store and event log of the process. */
const sharedPools = new Map<string, SharedPool>();

/**
 * Holds a pool (shared per URL unless `pool.shared` is false) for one schema. Nothing
 * connects yet: the first statement checks that the server answers and migrates the
 * schema, failing with `storage_unavailable` naming the masked URL when it cannot.
 */
export function openDatabase(options: PostgresConnectionOptions): PostgresDatabase {
  const schema = checkSchema(
    options.namespace ?? options.schema ?? DEFAULT_SCHEMA,
    options.namespace === undefined ? 'schema' : 'namespace',
  );
  const { url } = options;
  const maskedUrl = maskUrl(url);
  const secrets = urlPasswords(url);
  const poolOptions = options.pool ?? {};
  const clientConfig: pg.ClientConfig = {
    connectionString: url,
    application_name: poolOptions.applicationName ?? DEFAULT_APPLICATION_NAME,
    connectionTimeoutMillis: poolOptions.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    // Notices a dead peer (a half-open TCP connection) instead of waiting on it forever.
    keepAlive: true,
  };
  const poolConfig: pg.PoolConfig = {
    ...clientConfig,
    max: poolOptions.max ?? DEFAULT_POOL_SIZE,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    // Idle connections never keep the process alive on their own.
    allowExitOnIdle: true,
  };
  const shared = poolOptions.shared ?? true;
  const key = JSON.stringify([
    url,
    poolConfig.max,
    poolConfig.connectionTimeoutMillis,
    clientConfig.application_name,
  ]);
  let entry = shared ? sharedPools.get(key) : undefined;
  if (!entry) {
    entry = { pool: createPool(poolConfig), users: 0, prepares: true };
    if (shared) sharedPools.set(key, entry);
  }
  const { pool } = entry;
  const held = entry;
  held.users += 1;

  const quotedSchema = pgDriver().escapeIdentifier(schema);
  let ready: Promise<void> | undefined;
  let released = false;

  function storageError(error: unknown): unknown {
    return isConnectionError(error) ? unavailableError(maskedUrl, secrets, error) : error;
  }

  function checkOpen(): void {
    if (released) {
      throw new NightshiftError(
        'storage_unavailable',
        `the Postgres store at ${maskedUrl} is closed`,
      );
    }
  }

  async function runStatement<Row extends pg.QueryResultRow>(
    statement: Statement,
    values: readonly unknown[] | undefined,
    mayRepeat: (error: unknown) => boolean,
  ): Promise<pg.QueryResult<Row>> {
    checkOpen();
    await whenReady();
    const text = typeof statement === 'string' ? statement : statement.text;
    const parameters = values as unknown[] | undefined;
    const run = async (client: pg.PoolClient): Promise<pg.QueryResult<Row>> => {
      if (typeof statement === 'string' || !held.prepares) {
        return client.query<Row>(text, parameters);
      }
      try {
        return await client.query<Row>({ name: statement.name, text, values: parameters });
      } catch (error) {
        if (!isUnprepared(error)) throw error;
        // Nothing ran, so running it again is safe, also for a write.
        held.prepares = false;
        return client.query<Row>(text, parameters);
      }
    };
    try {
      return await onConnection(pool, run, mayRepeat);
    } catch (error) {
      throw storageError(error);
    }
  }

  /** Migrates on first use; a failure is not kept, so a later call tries again. */
  function whenReady(): Promise<void> {
    ready ??= inTransaction(pool, (client) => migrate(client, schema)).catch((error: unknown) => {
      ready = undefined;
      if (NightshiftError.isInstance(error)) throw error;
      if (isConnectionError(error)) throw unavailableError(maskedUrl, secrets, error);
      // Anything else (a missing privilege, say) leaves the store as unusable as no server.
      throw unavailableError(maskedUrl, secrets, error, `could not prepare schema "${schema}"`);
    });
    return ready;
  }

  return {
    schema,
    description: schema === DEFAULT_SCHEMA ? maskedUrl : `${maskedUrl} (schema ${schema})`,
    pool,
    clientConfig,

    table(name) {
      return `${quotedSchema}.${pgDriver().escapeIdentifier(name)}`;
    },

    prepare(text) {
      return { name: statementName(text), text };
    },

    async read<Row extends pg.QueryResultRow>(statement: Statement, values?: readonly unknown[]) {
      return runStatement<Row>(statement, values, () => true);
    },

    async write<Row extends pg.QueryResultRow>(statement: Statement, values?: readonly unknown[]) {
      return runStatement<Row>(statement, values, wasNeverSent);
    },

    async transaction(work) {
      checkOpen();
      await whenReady();
      try {
        return await inTransaction(pool, work);
      } catch (error) {
        throw storageError(error);
      }
    },

    storageError,

    async release() {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.users > 0) return;
      if (sharedPools.get(key) === held) sharedPools.delete(key);
      // Waits for statements in flight to hand their connections back.
      await pool.end();
    },
  };
}

function createPool(config: pg.PoolConfig): pg.Pool {
  const pool = new (pgDriver().Pool)(config);
  // An idle connection that dies (the server restarts, an admin terminates it) is already
  // dropped by the pool, which opens a new one when next needed. Without a listener this
  // event would crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Runs `work` on a pooled connection. When the connection turns out dead and `mayRepeat`
 * allows, runs it once more on a fresh one; a failure to connect at all is final.
 */
async function onConnection<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  mayRepeat: (error: unknown) => boolean,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const client = await pool.connect();
    // The pool stops listening to a connection while it is lent out: without this, an
    // error between two statements would be an unhandled 'error' event.
    let broken = false;
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      return await work(client);
    } catch (error) {
      broken ||= isConnectionError(error);
      if (!broken || attempt > 1 || !mayRepeat(error)) throw error;
    } finally {
      client.off('error', onError);
      // A connection that failed is closed rather than lent to the next caller.
      client.release(broken);
    }
  }
}

/** Runs `work` between BEGIN and COMMIT, repeated once if the connection dies before COMMIT is sent. */
function inTransaction<T>(pool: pg.Pool, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  let committing = false;
  return onConnection(
    pool,
    async (client) => {
      committing = false;
      await client.query('BEGIN');
      try {
        const result = await work(client);
        committing = true;
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A failed COMMIT has ended the transaction; a dead connection's was rolled back by the server.
        if (!committing) await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    },
    () => !committing,
  );
}

/** The name of a prepared statement: a digest of its text, within Postgres' 63 bytes. */
function statementName(text: string): string {
  return `nightshift_${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
}

/** True when the server refused a prepared statement before running it. */
function isUnprepared(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    UNPREPARED_CODES.has(error.code)
  );
}

/** True when the driver refused a statement without sending it (its connection had already failed). */
function wasNeverSent(error: unknown): boolean {
  return error instanceof Error && /not queryable/i.test(error.message);
}

function checkSchema(schema: string, field: string): string {
  if (SCHEMA_PATTERN.test(schema)) return schema;
  const message = `"${schema}" is not a usable schema name (lowercase letters, digits and _, starting with a letter or _, at most ${63 - CHANNEL_PREFIX.length} characters)`;
  throw new NightshiftError('config_invalid', message, { fields: [{ path: field, message }] });
}

/** The name of the channel an event log in `schema` notifies on. */
export function eventChannel(schema: string): string {
  return `${CHANNEL_PREFIX}${schema}`;
}
