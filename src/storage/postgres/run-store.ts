import { NightshiftError } from '../../errors.js';
import { applyRunPatch, applyStepPatch } from '../apply-patch.js';
import { meetsCondition } from '../contracts/run-store.js';
import type {
  AttemptRecord,
  ErrorInfo,
  RunRecord,
  RunStatus,
  RunStep,
  RunStore,
  RunTrigger,
} from '../contracts/run-store.js';
import type { Usage } from '../contracts/usage.js';
import type { PostgresDatabase } from './database.js';

const DEFAULT_LIST_LIMIT = 50;

interface RunRow {
  run_id: string;
  agent_id: string;
  trigger: string;
  scheduled_at: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  status: string;
  query: string;
  attempts: AttemptRecord[];
  output: string | null;
  error: ErrorInfo | null;
  usage: Usage;
  skip_reason: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
}

const COLUMNS =
  'run_id, agent_id, "trigger", scheduled_at, created_at, started_at, ended_at, status, query, attempts, output, error, usage, skip_reason, lease_owner, lease_expires_at';
const PLACEHOLDERS =
  '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12::jsonb, $13::jsonb, $14, $15, $16';

/** The statement parameters of a run, in {@link COLUMNS} order; JSONB values as JSON text. */
function toParameters(run: RunRecord): unknown[] {
  return [
    run.run_id,
    run.agent_id,
    run.trigger,
    run.scheduled_at,
    run.created_at,
    run.started_at,
    run.ended_at,
    run.status,
    run.query,
    JSON.stringify(run.attempts),
    run.output,
    run.error === null ? null : JSON.stringify(run.error),
    JSON.stringify(run.usage),
    run.skip_reason,
    run.lease_owner,
    run.lease_expires_at,
  ];
}

/** The parameters of the update statement: the run id, then the columns a patch may move. */
function toPatchParameters(run: RunRecord): unknown[] {
  return [
    run.run_id,
    run.started_at,
    run.ended_at,
    run.status,
    JSON.stringify(run.attempts),
    run.output,
    run.error === null ? null : JSON.stringify(run.error),
    JSON.stringify(run.usage),
    run.skip_reason,
    run.lease_owner,
    run.lease_expires_at,
  ];
}

function toRecord(row: RunRow): RunRecord {
  return {
    run_id: row.run_id,
    agent_id: row.agent_id,
    trigger: row.trigger as RunTrigger,
    scheduled_at: row.scheduled_at,
    created_at: row.created_at,
    started_at: row.started_at,
    ended_at: row.ended_at,
    status: row.status as RunStatus,
    query: row.query,
    attempts: row.attempts,
    output: row.output,
    error: row.error,
    usage: row.usage,
    skip_reason: row.skip_reason,
    lease_owner: row.lease_owner,
    lease_expires_at: row.lease_expires_at,
  };
}

/** A {@link RunStore} in a Postgres schema. */
export function createPostgresRunStore(database: PostgresDatabase): RunStore {
  const runs = database.table('runs');
  const steps = database.table('run_steps');
  // One statement is atomic on its own: the first claim inserts, every other changes nothing.
  const claim = `INSERT INTO ${runs} (${COLUMNS}) VALUES (${PLACEHOLDERS}) ON CONFLICT (run_id) DO NOTHING`;
  // Only the columns a patch may move; identity columns are never written again.
  const replace = `
    UPDATE ${runs} SET started_at = $2, ended_at = $3, status = $4, attempts = $5::jsonb,
      output = $6, error = $7::jsonb, usage = $8::jsonb, skip_reason = $9, lease_owner = $10,
      lease_expires_at = $11
    WHERE run_id = $1
  `;
  const byAgent = `SELECT * FROM ${runs} WHERE agent_id = $1`;
  const newestFirst = 'ORDER BY scheduled_at DESC, run_id DESC';

  return {
    async claim(run) {
      const { rowCount } = await database.write(claim, toParameters(run));
      return rowCount === 1;
    },

    async get(runId) {
      const { rows } = await database.read<RunRow>(`SELECT * FROM ${runs} WHERE run_id = $1`, [
        runId,
      ]);
      return rows[0] && toRecord(rows[0]);
    },

    async update(runId, patch, condition) {
      // The row is locked before the condition is judged, so of racing conditional updates
      // (two processes taking over one run) exactly one sees the condition still met.
      return database.transaction(async (client) => {
        const { rows } = await client.query<RunRow>(
          `SELECT * FROM ${runs} WHERE run_id = $1 FOR UPDATE`,
          [runId],
        );
        const row = rows[0];
        if (!row) return undefined;
        const run = toRecord(row);
        if (!meetsCondition(run, condition)) return undefined;
        const next = applyRunPatch(run, patch);
        await client.query(replace, toPatchParameters(next));
        return next;
      });
    },

    async list(agentId, options = {}) {
      const limit = Math.max(0, options.limit ?? DEFAULT_LIST_LIMIT);
      if (options.status === undefined) {
        const { rows } = await database.read<RunRow>(`${byAgent} ${newestFirst} LIMIT $2`, [
          agentId,
          limit,
        ]);
        return rows.map(toRecord);
      }
      const statuses = typeof options.status === 'string' ? [options.status] : [...options.status];
      const { rows } = await database.read<RunRow>(
        `${byAgent} AND status = ANY($2::text[]) ${newestFirst} LIMIT $3`,
        [agentId, statuses, limit],
      );
      return rows.map(toRecord);
    },

    async listUnfinished() {
      // Oldest first: recovery deals with runs in the order they were due.
      const { rows } = await database.read<RunRow>(
        `SELECT * FROM ${runs} WHERE status IN ('pending', 'running') ORDER BY scheduled_at, run_id`,
      );
      return rows.map(toRecord);
    },

    async appendStep(step) {
      const { rowCount } = await database.write(
        `INSERT INTO ${steps} (run_id, step_id, step) VALUES ($1, $2, $3::jsonb) ON CONFLICT DO NOTHING`,
        [step.run_id, step.step_id, JSON.stringify(step)],
      );
      if (rowCount === 0) {
        throw new NightshiftError(
          'invalid_state',
          `step ${step.step_id} of run ${step.run_id} is already recorded`,
          { details: { run_id: step.run_id, step_id: step.step_id } },
        );
      }
    },

    async updateStep(runId, stepId, patch) {
      await database.transaction(async (client) => {
        const { rows } = await client.query<{ step: RunStep }>(
          `SELECT step FROM ${steps} WHERE run_id = $1 AND step_id = $2 FOR UPDATE`,
          [runId, stepId],
        );
        const row = rows[0];
        if (!row) return;
        await client.query(
          `UPDATE ${steps} SET step = $3::jsonb WHERE run_id = $1 AND step_id = $2`,
          [runId, stepId, JSON.stringify(applyStepPatch(row.step, patch))],
        );
      });
    },

    async listSteps(runId) {
      const { rows } = await database.read<{ step: RunStep }>(
        `SELECT step FROM ${steps} WHERE run_id = $1 ORDER BY sequence`,
        [runId],
      );
      return rows.map((row) => row.step);
    },

    async deleteByAgent(agentId) {
      // One statement: the runs and their steps go together, or not at all.
      await database.write(
        `WITH removed AS (DELETE FROM ${runs} WHERE agent_id = $1 RETURNING run_id)
         DELETE FROM ${steps} WHERE run_id IN (SELECT run_id FROM removed)`,
        [agentId],
      );
    },
  };
}
