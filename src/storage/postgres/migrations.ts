import pg from 'pg';
import { NightshiftError } from '../../errors.js';

/** One step of the schema, applied once per Postgres schema, in version order. */
export interface Migration {
  version: number;
  name: string;
  /** Statements run with `search_path` set to the target schema, so names stay unqualified. */
  sql: string;
}

/**
 * The schema, oldest first. Never edit a released migration: add the next version.
 * JSONB columns hold what only the application reads; columns that queries filter or
 * order on are real columns. Times are kept as the ISO text the application wrote, so
 * they read back exactly; ids and times that are ordered use the "C" collation, the
 * code-unit order SQLite and the memory backend give.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'agents, runs, steps, messages, leases and events',
    sql: `
      CREATE TABLE agents (
        agent_id     TEXT COLLATE "C" PRIMARY KEY,
        definition   JSONB NOT NULL,
        state        TEXT NOT NULL,
        pause_reason TEXT,
        anchor_at    TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        version      INTEGER NOT NULL,
        stats        JSONB NOT NULL
      );

      CREATE TABLE runs (
        run_id           TEXT COLLATE "C" PRIMARY KEY,
        agent_id         TEXT COLLATE "C" NOT NULL,
        "trigger"        TEXT NOT NULL,
        scheduled_at     TEXT COLLATE "C" NOT NULL,
        created_at       TEXT NOT NULL,
        started_at       TEXT,
        ended_at         TEXT,
        status           TEXT NOT NULL,
        query            TEXT NOT NULL,
        attempts         JSONB NOT NULL,
        output           TEXT,
        error            JSONB,
        usage            JSONB NOT NULL,
        skip_reason      TEXT,
        lease_owner      TEXT,
        lease_expires_at TEXT
      );
      CREATE INDEX runs_by_agent ON runs (agent_id, scheduled_at DESC, run_id DESC);
      CREATE INDEX runs_by_status ON runs (status, scheduled_at, run_id);

      CREATE TABLE run_steps (
        sequence BIGSERIAL PRIMARY KEY,
        run_id   TEXT COLLATE "C" NOT NULL,
        step_id  TEXT COLLATE "C" NOT NULL,
        step     JSONB NOT NULL,
        UNIQUE (run_id, step_id)
      );
      CREATE INDEX run_steps_by_run ON run_steps (run_id, sequence);

      CREATE TABLE messages (
        sequence   BIGSERIAL PRIMARY KEY,
        session_id TEXT NOT NULL,
        message    JSONB NOT NULL
      );
      CREATE INDEX messages_by_session ON messages (session_id, sequence);

      CREATE TABLE leases (
        key        TEXT PRIMARY KEY,
        holder     TEXT,
        token      BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );

      CREATE TABLE events (
        id          BIGSERIAL PRIMARY KEY,
        agent_id    TEXT NOT NULL,
        run_id      TEXT,
        type        TEXT NOT NULL,
        "timestamp" TEXT NOT NULL,
        payload     JSONB NOT NULL
      );
      CREATE INDEX events_by_agent ON events (agent_id, id);
    `,
  },
];

/**
 * Brings `schema` to the newest version, creating it when missing. Runs inside the
 * caller's transaction, under a transaction-level advisory lock on the schema's name, so
 * processes starting together take turns and the later ones find the work done.
 */
export async function migrate(
  client: pg.ClientBase,
  schema: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<void> {
  const quoted = pg.escapeIdentifier(schema);
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
    `nightshift_migrations:${schema}`,
  ]);
  // Looked up first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the
  // schema exists, which a user of an existing schema may not have.
  const existing = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (existing.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
  // LOCAL: the setting ends with the transaction, before the connection returns to the pool.
  await client.query(`SET LOCAL search_path TO ${quoted}`);
  await client.query(`
    CREATE TABLE IF NOT EXISTS nightshift_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
  `);
  const { rows } = await client.query<{ version: number | null }>(
    'SELECT MAX(version) AS version FROM nightshift_migrations',
  );
  const current = rows[0]?.version ?? 0;
  const newest = migrations.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new NightshiftError(
      'storage_unavailable',
      `the Postgres schema "${schema}" is at version ${current}, newer than this Nightshift knows (${newest}); upgrade Nightshift`,
      { details: { schema, version: current, known: newest } },
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    await client.query(migration.sql);
    await client.query('INSERT INTO nightshift_migrations (version, name) VALUES ($1, $2)', [
      migration.version,
      migration.name,
    ]);
  }
}
