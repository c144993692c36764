import type pg from 'pg';
import { pgDriver } from '../../shared/pg-driver.js';
import {
  checkSchemaVersion,
  firstMigration,
  type SqlDialect,
  type SqlMigration,
} from '../sql/schema.js';

/**
 * How Postgres writes the shared schema: JSON as JSONB, and sorted text in the "C"
 * collation, the code-unit order SQLite and the memory backend give.
 */
export const POSTGRES_DIALECT: SqlDialect = {
  types: {
    text: 'TEXT',
    sorted_text: 'TEXT COLLATE "C"',
    json: 'JSONB',
    integer: 'INTEGER',
    big_integer: 'BIGINT',
    sequence: 'BIGSERIAL PRIMARY KEY',
  },
  parameter: (index, column) => (column.type === 'json' ? `$${index}::jsonb` : `$${index}`),
};

/**
 * Version 2: budget counters (what was spent, is held and was granted per dimension, in each
 * window) and the open holds on them. Amounts are BIGINT: sums stay exact far past what a
 * JavaScript number holds exactly, and rows arrive as text, read back with `Number`.
 */
const BUDGETS_MIGRATION: SqlMigration = {
  version: 2,
  name: 'budget counters and holds',
  sql: `
CREATE TABLE budget_counters (
  key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  spent_micro_usd BIGINT NOT NULL DEFAULT 0,
  spent_tokens BIGINT NOT NULL DEFAULT 0,
  spent_requests BIGINT NOT NULL DEFAULT 0,
  spent_tool_calls BIGINT NOT NULL DEFAULT 0,
  held_micro_usd BIGINT NOT NULL DEFAULT 0,
  held_tokens BIGINT NOT NULL DEFAULT 0,
  held_requests BIGINT NOT NULL DEFAULT 0,
  held_tool_calls BIGINT NOT NULL DEFAULT 0,
  granted_micro_usd BIGINT NOT NULL DEFAULT 0,
  granted_tokens BIGINT NOT NULL DEFAULT 0,
  granted_requests BIGINT NOT NULL DEFAULT 0,
  granted_tool_calls BIGINT NOT NULL DEFAULT 0,
  resets_at TEXT NOT NULL,
  drop_after BIGINT NOT NULL
);
CREATE INDEX budget_counters_by_drop_after ON budget_counters (drop_after);

CREATE TABLE budget_holds (
  hold_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  run_id TEXT COLLATE "C" NOT NULL,
  keys JSONB NOT NULL,
  micro_usd BIGINT NOT NULL,
  tokens BIGINT NOT NULL,
  requests BIGINT NOT NULL,
  tool_calls BIGINT NOT NULL,
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
  grant_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  key TEXT COLLATE "C" NOT NULL,
  micro_usd BIGINT NOT NULL,
  tokens BIGINT NOT NULL,
  requests BIGINT NOT NULL,
  tool_calls BIGINT NOT NULL,
  granted_by TEXT NOT NULL,
  note TEXT NOT NULL,
  granted_at TEXT NOT NULL,
  granted_at_ms BIGINT NOT NULL,
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
ALTER TABLE budget_grants
  ADD COLUMN expires_at TEXT,
  ADD COLUMN expires_at_ms BIGINT,
  ADD COLUMN expired_at TEXT;
CREATE INDEX budget_grants_to_expire ON budget_grants (expires_at_ms, grant_id)
  WHERE expires_at_ms IS NOT NULL AND expired_at IS NULL;
`,
};

/**
 * Version 5: approvals, the tool calls that wait for a person. JSON columns are JSONB (a JSON
 * null as the JSON `null`, never SQL NULL); ids and `requested_at` sort in "C" order. Every
 * listing is an index read: by state, by agent, by run, or all, each newest `requested_at`
 * first (ties by `approval_id`), Postgres scanning the index backwards.
 */
const APPROVALS_MIGRATION: SqlMigration = {
  version: 5,
  name: 'approvals',
  sql: `
CREATE TABLE approvals (
  approval_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  run_id TEXT COLLATE "C" NOT NULL,
  agent_id TEXT COLLATE "C" NOT NULL,
  tool_name TEXT NOT NULL,
  tool_call_id TEXT NOT NULL,
  arguments JSONB NOT NULL,
  state TEXT COLLATE "C" NOT NULL,
  requested_at TEXT COLLATE "C" NOT NULL,
  expires_at TEXT NOT NULL,
  on_timeout TEXT NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  note TEXT,
  edited_arguments JSONB NOT NULL
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
ALTER TABLE agents
  ADD COLUMN paused_by TEXT,
  ADD COLUMN paused_until TEXT;
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
ALTER TABLE runs ADD COLUMN output_json JSONB;
`,
};

/**
 * Version 8: retention. A sweep removes an agent's ended runs by `ended_at` and its events by
 * `timestamp`, oldest first, a bounded batch at a time: each batch is an index read. The times
 * are ISO text compared in "C" order (the queries say so), which is time order.
 */
const RETENTION_MIGRATION: SqlMigration = {
  version: 8,
  name: 'retention indexes',
  sql: `
CREATE INDEX runs_by_ended_at ON runs (agent_id, (ended_at COLLATE "C"));
CREATE INDEX events_by_agent_timestamp ON events (agent_id, ("timestamp" COLLATE "C"));
`,
};

/**
 * Version 9: replays. A replay run names the run it replays (`replay_of`) and where its model
 * replies and tool results come from (`replay_mode`, JSONB). NULL on every other run.
 */
const REPLAY_MIGRATION: SqlMigration = {
  version: 9,
  name: 'replays',
  sql: `
ALTER TABLE runs ADD COLUMN replay_of TEXT;
ALTER TABLE runs ADD COLUMN replay_mode JSONB;
`,
};

/**
 * The schema, oldest first. Never edit a released migration: add the next version. Each
 * runs with `search_path` set to the target schema, so its names stay unqualified.
 */
export const MIGRATIONS: readonly SqlMigration[] = [
  firstMigration(POSTGRES_DIALECT),
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
 * Brings `schema` to the newest version, creating it when missing. Runs inside the
 * caller's transaction, under a transaction-level advisory lock on the schema's name, so
 * processes starting together take turns and the later ones find the work done.
 */
export async function migrate(
  client: pg.ClientBase,
  schema: string,
  migrations: readonly SqlMigration[] = MIGRATIONS,
): Promise<void> {
  const quoted = pgDriver().escapeIdentifier(schema);
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
  checkSchemaVersion(`the Postgres schema "${schema}"`, current, migrations, { schema });
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    await client.query(migration.sql);
    await client.query('INSERT INTO nightshift_migrations (version, name) VALUES ($1, $2)', [
      migration.version,
      migration.name,
    ]);
  }
}
