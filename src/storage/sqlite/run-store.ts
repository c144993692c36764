import { NightshiftError } from '../../errors.js';
import { applyRunPatch, applyStepPatch } from '../apply-patch.js';
import { meetsCondition } from '../contracts/run-store.js';
import type {
  AttemptRecord,
  ErrorInfo,
  RunCondition,
  RunPatch,
  RunRecord,
  RunStatus,
  RunStep,
  RunStore,
  RunTrigger,
} from '../contracts/run-store.js';
import type { Usage } from '../contracts/usage.js';
import type { SqliteConnection } from './database.js';

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
  attempts: string;
  output: string | null;
  error: string | null;
  usage: string;
  skip_reason: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
}

function toRow(run: RunRecord): RunRow {
  return {
    ...run,
    attempts: JSON.stringify(run.attempts),
    error: run.error === null ? null : JSON.stringify(run.error),
    usage: JSON.stringify(run.usage),
  };
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
    attempts: JSON.parse(row.attempts) as AttemptRecord[],
    output: row.output,
    error: row.error === null ? null : (JSON.parse(row.error) as ErrorInfo),
    usage: JSON.parse(row.usage) as Usage,
    skip_reason: row.skip_reason,
    lease_owner: row.lease_owner,
    lease_expires_at: row.lease_expires_at,
  };
}

/**
 * A {@link RunStore} in a SQLite database. Writes commit in the connection's batch; each
 * read-modify-write reads inside it, under the write lock, so its condition holds when it writes.
 */
export function createSqliteRunStore({ database, writes }: SqliteConnection): RunStore {
  const columns =
    'run_id, agent_id, "trigger", scheduled_at, created_at, started_at, ended_at, status, query, attempts, output, error, usage, skip_reason, lease_owner, lease_expires_at';
  const parameters =
    '@run_id, @agent_id, @trigger, @scheduled_at, @created_at, @started_at, @ended_at, @status, @query, @attempts, @output, @error, @usage, @skip_reason, @lease_owner, @lease_expires_at';
  // One statement is atomic on its own: the first claim inserts, every other changes nothing.
  const claim = database.prepare<[RunRow]>(
    `INSERT INTO runs (${columns}) VALUES (${parameters}) ON CONFLICT (run_id) DO NOTHING`,
  );
  const replace = database.prepare<[RunRow]>(`
    UPDATE runs SET started_at = @started_at, ended_at = @ended_at, status = @status,
      attempts = @attempts, output = @output, error = @error, usage = @usage,
      skip_reason = @skip_reason, lease_owner = @lease_owner, lease_expires_at = @lease_expires_at
    WHERE run_id = @run_id
  `);
  const select = database.prepare<[string], RunRow>('SELECT * FROM runs WHERE run_id = ?');
  const selectByAgent = database.prepare<[string, number], RunRow>(`
    SELECT * FROM runs WHERE agent_id = ?
    ORDER BY scheduled_at DESC, run_id DESC LIMIT ?
  `);
  const selectByAgentAndStatus = database.prepare<[string, string, number], RunRow>(`
    SELECT * FROM runs WHERE agent_id = ? AND status IN (SELECT value FROM json_each(?))
    ORDER BY scheduled_at DESC, run_id DESC LIMIT ?
  `);
  // Oldest first: recovery deals with runs in the order they were due.
  const selectUnfinished = database.prepare<[], RunRow>(`
    SELECT * FROM runs WHERE status IN ('pending', 'running') ORDER BY scheduled_at, run_id
  `);
  const removeRuns = database.prepare<[string]>('DELETE FROM runs WHERE agent_id = ?');

  const insertStep = database.prepare<[string, string, string]>(
    'INSERT INTO run_steps (run_id, step_id, step) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const selectStep = database.prepare<[string, string], { step: string }>(
    'SELECT step FROM run_steps WHERE run_id = ? AND step_id = ?',
  );
  const replaceStep = database.prepare<[string, string, string]>(
    'UPDATE run_steps SET step = ? WHERE run_id = ? AND step_id = ?',
  );
  const selectSteps = database.prepare<[string], { step: string }>(
    'SELECT step FROM run_steps WHERE run_id = ? ORDER BY sequence',
  );
  const removeSteps = database.prepare<[string]>(
    'DELETE FROM run_steps WHERE run_id IN (SELECT run_id FROM runs WHERE agent_id = ?)',
  );

  function updateRun(
    runId: string,
    patch: RunPatch,
    condition: RunCondition | undefined,
  ): RunRecord | undefined {
    const row = select.get(runId);
    if (!row) return undefined;
    const run = toRecord(row);
    if (!meetsCondition(run, condition)) return undefined;
    const next = applyRunPatch(run, patch);
    replace.run(toRow(next));
    return next;
  }

  function updateStep(runId: string, stepId: string, patch: Partial<RunStep>): void {
    const row = selectStep.get(runId, stepId);
    if (!row) return;
    const next = applyStepPatch(JSON.parse(row.step) as RunStep, patch);
    replaceStep.run(JSON.stringify(next), runId, stepId);
  }

  return {
    async claim(run) {
      const row = toRow(run);
      return writes.write(['runs', run.run_id], () => claim.run(row).changes === 1);
    },

    async get(runId) {
      const row = writes.read(['runs', runId], () => select.get(runId));
      return row && toRecord(row);
    },

    async update(runId, patch, condition) {
      // Applied when the batch commits: a copy, so later changes by the caller do not reach it.
      const snapshot = structuredClone(patch);
      const when = condition && structuredClone(condition);
      return writes.write(['runs', runId], () => updateRun(runId, snapshot, when));
    },

    async list(agentId, options = {}) {
      const limit = Math.max(0, options.limit ?? DEFAULT_LIST_LIMIT);
      if (options.status === undefined) {
        return writes.read(['runs'], () => selectByAgent.all(agentId, limit)).map(toRecord);
      }
      const statuses = JSON.stringify(
        typeof options.status === 'string' ? [options.status] : options.status,
      );
      return writes
        .read(['runs'], () => selectByAgentAndStatus.all(agentId, statuses, limit))
        .map(toRecord);
    },

    async listUnfinished() {
      return writes.read(['runs'], () => selectUnfinished.all()).map(toRecord);
    },

    async appendStep(step) {
      const json = JSON.stringify(step);
      return writes.write(['runs', step.run_id], () => {
        if (insertStep.run(step.run_id, step.step_id, json).changes === 0) {
          throw new NightshiftError(
            'invalid_state',
            `step ${step.step_id} of run ${step.run_id} is already recorded`,
            { details: { run_id: step.run_id, step_id: step.step_id } },
          );
        }
      });
    },

    async updateStep(runId, stepId, patch) {
      const snapshot = structuredClone(patch);
      return writes.write(['runs', runId], () => updateStep(runId, stepId, snapshot));
    },

    async listSteps(runId) {
      return writes
        .read(['runs', runId], () => selectSteps.all(runId))
        .map((row) => JSON.parse(row.step) as RunStep);
    },

    // One write, so one savepoint: every run and step of the agent goes, or none.
    async deleteByAgent(agentId) {
      return writes.write(['runs'], () => {
        removeSteps.run(agentId);
        removeRuns.run(agentId);
      });
    },
  };
}
