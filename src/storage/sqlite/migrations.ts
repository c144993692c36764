import type Database from 'better-sqlite3';
import {
  checkSchemaVersion,
  firstMigration,
  type SqlDialect,
  type SqlMigration,
} from '../sql/schema.js';

/** How SQLite writes the shared schema: JSON as text, every integer an INTEGER, named parameters. */
export const SQLITE_DIALECT: SqlDialect = {
  types: {
    text: 'TEXT',
    // BINARY, SQLite's default collation, is code-unit order already.
    sorted_text: 'TEXT',
    json: 'TEXT',
    integer: 'INTEGER',
    big_integer: 'INTEGER',
    sequence: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  },
  // Named: statements take a row object, whatever order its columns come in.
  parameter: (_index, column) => `@${column.name}`,
};

/**
 * Version 2: budget counters (what was spent, is held and was granted per dimension, in each
 * window) and the open holds on them. Amounts are INTEGER, exact in SQLite's 64 bits.
 */
const BUDGETS_MIGRATION: SqlMigration = {
  version: 2,
  name: 'budget counters and holds',
  sql: `
CREATE TABLE budget_counters (
  "key" TEXT NOT NULL PRIMARY KEY,
  spent_micro_usd INTEGER NOT NULL DEFAULT 0,
  spent_tokens INTEGER NOT NULL DEFAULT 0,
  spent_requests INTEGER NOT NULL DEFAULT 0,
  spent_tool_calls INTEGER NOT NULL DEFAULT 0,
  held_micro_usd INTEGER NOT NULL DEFAULT 0,
  held_tokens INTEGER NOT NULL DEFAULT 0,
  held_requests INTEGER NOT NULL DEFAULT 0,
  held_tool_calls INTEGER NOT NULL DEFAULT 0,
  granted_micro_usd INTEGER NOT NULL DEFAULT 0,
  granted_tokens INTEGER NOT NULL DEFAULT 0,
  granted_requests INTEGER NOT NULL DEFAULT 0,
  granted_tool_calls INTEGER NOT NULL DEFAULT 0,
  resets_at TEXT NOT NULL,
  drop_after INTEGER NOT NULL
);
CREATE INDEX budget_counters_by_drop_after ON budget_counters (drop_after);

CREATE TABLE budget_holds (
  hold_id TEXT NOT NULL PRIMARY KEY,
  run_id TEXT NOT NULL,
  keys TEXT NOT NULL,
  micro_usd INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  tool_calls INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX budget_holds_by_run ON budget_holds (run_id);
`,
};

/**
 * Version 3: the ledger of budget grants (who raised which counter, by how much, when and why),
 * kept forever. The grant's `by` is `granted_by` (BY is an SQL keyword); `granted_at_ms` is
 * its `granted_at` as an instant, what the ledger is listed in order of.
 */
const BUDGET_GRANTS_MIGRATION: SqlMigration = {
  version: 3,
  name: 'budget grants ledger',
  sql: `
CREATE TABLE budget_grants (
  grant_id TEXT NOT NULL PRIMARY KEY,
  "key" TEXT NOT NULL,
  micro_usd INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  tool_calls INTEGER NOT NULL,
  granted_by TEXT NOT NULL,
  note TEXT NOT NULL,
  granted_at TEXT NOT NULL,
  granted_at_ms INTEGER NOT NULL,
  resets_at TEXT NOT NULL
);
CREATE INDEX budget_grants_by_granted_at ON budget_grants (granted_at_ms, grant_id);
`,
};

/**
 * Version 4: grants that expire. `expires_at` is when a grant stops counting before its window
 * ends (null: it lasts the window), `expires_at_ms` the same instant for the sweep to compare,
 * `expired_at` when a sweep expired it. The partial index holds only the grants still to
 * expire, so a sweep with none due is one short index read.
 */
const BUDGET_GRANT_EXPIRY_MIGRATION: SqlMigration = {
  version: 4,
  name: 'budget grants that expire',
  sql: `
ALTER TABLE budget_grants ADD COLUMN expires_at TEXT;
ALTER TABLE budget_grants ADD COLUMN expires_at_ms INTEGER;
ALTER TABLE budget_grants ADD COLUMN expired_at TEXT;
CREATE INDEX budget_grants_to_expire ON budget_grants (expires_at_ms, grant_id)
  WHERE expires_at_ms IS NOT NULL AND expired_at IS NULL;
`,
};

/**
 * Version 5: approvals, the tool calls that wait for a person. JSON columns hold JSON text (a
 * JSON null as `null`). Every listing is an index read: by state, by agent, by run, or all,
 * each newest `requested_at` first (ties by `approval_id`), SQLite scanning the index backwards.
 */
const APPROVALS_MIGRATION: SqlMigration = {
  version: 5,
  name: 'approvals',
  sql: `
CREATE TABLE approvals (
  approval_id TEXT NOT NULL PRIMARY KEY,
  run_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  tool_name TEXT NOT NULL,
  tool_call_id TEXT NOT NULL,
  arguments TEXT NOT NULL,
  state TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  on_timeout TEXT NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  note TEXT,
  edited_arguments TEXT NOT NULL
);
CREATE INDEX approvals_by_state ON approvals (state, requested_at, approval_id);
CREATE INDEX approvals_by_agent ON approvals (agent_id, requested_at, approval_id);
CREATE INDEX approvals_by_run ON approvals (run_id, requested_at, approval_id);
CREATE INDEX approvals_by_requested_at ON approvals (requested_at, approval_id);
`,
};

/**
 * Version 6: a paused agent's note beside its `pause_reason`: who paused it (`paused_by`) and,
 * for a timed pause, when it resumes by itself (`paused_until`, an ISO instant). NULL when the
 * agent is not paused, or paused without them. The managers' sweep reads every agent anyway,
 * so no index.
 */
const PAUSE_NOTES_MIGRATION: SqlMigration = {
  version: 6,
  name: 'pause notes',
  sql: `
ALTER TABLE agents ADD COLUMN paused_by TEXT;
ALTER TABLE agents ADD COLUMN paused_until TEXT;
`,
};

/**
 * Version 7: a run's answer parsed (`output_json`, JSON) beside its text, for agents with a
 * `task_config.output_schema`. NULL without one, and for runs from before.
 */
const OUTPUT_JSON_MIGRATION: SqlMigration = {
  version: 7,
  name: 'structured answers',
  sql: `
ALTER TABLE runs ADD COLUMN output_json TEXT;
`,
};

/**
 * Version 8: retention. A sweep removes an agent's ended runs by `ended_at` and its events by
 * `timestamp`, oldest first, a bounded batch at a time: each batch is an index read.
 */
const RETENTION_MIGRATION: SqlMigration = {
  version: 8,
  name: 'retention indexes',
  sql: `
CREATE INDEX runs_by_ended_at ON runs (agent_id, ended_at);
CREATE INDEX events_by_agent_timestamp ON events (agent_id, "timestamp");
`,
};

/**
 * Version 9: replays. A replay run names the run it replays (`replay_of`) and where its model
 * replies and tool results come from (`replay_mode`, JSON). NULL on every other run.
 */
const REPLAY_MIGRATION: SqlMigration = {
  version: 9,
  name: 'replays',
  sql: `
ALTER TABLE runs ADD COLUMN replay_of TEXT;
ALTER TABLE runs ADD COLUMN replay_mode TEXT;
`,
};

/** The schema, oldest first. Never edit a released migration: add the next version. */
export const MIGRATIONS: readonly SqlMigration[] = [
  firstMigration(SQLITE_DIALECT),
  BUDGETS_MIGRATION,
  BUDGET_GRANTS_MIGRATION,
  BUDGET_GRANT_EXPIRY_MIGRATION,
  APPROVALS_MIGRATION,
  PAUSE_NOTES_MIGRATION,
  OUTPUT_JSON_MIGRATION,
  RETENTION_MIGRATION,
  REPLAY_MIGRATION,
];

/**
 * Brings the database to the newest schema. The check and the changes run in one
 * `BEGIN IMMEDIATE` transaction, so processes opening a new file at once migrate it once.
 */
export function migrate(
  database: Database.Database,
  migrations: readonly SqlMigration[] = MIGRATIONS,
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
      checkSchemaVersion('the database schema', current, migrations);
      for (const migration of migrations) {
        if (migration.version <= current) continue;
        database.exec(migration.sql);
        record.run(migration.version, migration.name, new Date().toISOString());
      }
    })
    .immediate();
}
