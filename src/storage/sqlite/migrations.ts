import { NightshiftError } from '../../errors.js';
import type Database from 'better-sqlite3';

/** One step of the schema, applied once per database file, in version order. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, oldest first. Never edit a released migration: add the next version.
 * JSON columns (definition, stats, attempts, usage, payload …) hold what only the
 * application reads; columns that queries filter or order on are real columns.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'agents, runs, steps, messages, leases and events',
    sql: `
      CREATE TABLE agents (
        agent_id     TEXT PRIMARY KEY,
        definition   TEXT NOT NULL,
        state        TEXT NOT NULL,
        pause_reason TEXT,
        anchor_at    TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        version      INTEGER NOT NULL,
        stats        TEXT NOT NULL
      );

      CREATE TABLE runs (
        run_id           TEXT PRIMARY KEY,
        agent_id         TEXT NOT NULL,
        "trigger"        TEXT NOT NULL,
        scheduled_at     TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        started_at       TEXT,
        ended_at         TEXT,
        status           TEXT NOT NULL,
        query            TEXT NOT NULL,
        attempts         TEXT NOT NULL,
        output           TEXT,
        error            TEXT,
        usage            TEXT NOT NULL,
        skip_reason      TEXT,
        lease_owner      TEXT,
        lease_expires_at TEXT
      );
      CREATE INDEX runs_by_agent ON runs (agent_id, scheduled_at DESC, run_id DESC);
      CREATE INDEX runs_by_status ON runs (status, scheduled_at, run_id);

      CREATE TABLE run_steps (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id   TEXT NOT NULL,
        step_id  TEXT NOT NULL,
        step     TEXT NOT NULL,
        UNIQUE (run_id, step_id)
      );
      CREATE INDEX run_steps_by_run ON run_steps (run_id, sequence);

      CREATE TABLE messages (
        sequence   INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        message    TEXT NOT NULL
      );
      CREATE INDEX messages_by_session ON messages (session_id, sequence);

      CREATE TABLE leases (
        key        TEXT PRIMARY KEY,
        holder     TEXT,
        token      INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );

      CREATE TABLE events (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        agent_id  TEXT NOT NULL,
        run_id    TEXT,
        type      TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        payload   TEXT NOT NULL
      );
      CREATE INDEX events_by_agent ON events (agent_id, id);
    `,
  },
];

/**
 * Brings the database to the newest schema. The check and the changes run in one
 * `BEGIN IMMEDIATE` transaction, so processes opening a new file at once migrate it once.
 */
export function migrate(
  database: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
): void {
  database.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )
  `);
  const currentVersion = database.prepare<[], { version: number | null }>(
    'SELECT MAX(version) AS version FROM schema_migrations',
  );
  const record = database.prepare<[number, string, string]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  database
    .transaction(() => {
      const current = currentVersion.get()?.version ?? 0;
      const newest = migrations.at(-1)?.version ?? 0;
      if (current > newest) {
        throw new NightshiftError(
          'storage_unavailable',
          `the database schema is at version ${current}, newer than this Nightshift knows (${newest}); upgrade Nightshift`,
        );
      }
      for (const migration of migrations) {
        if (migration.version <= current) continue;
        database.exec(migration.sql);
        record.run(migration.version, migration.name, new Date().toISOString());
      }
    })
    .immediate();
}
