import { copyPlain } from '../../shared/copy-plain.js';
import { NightshiftError } from '../../errors.js';
import { applyRunPatch, applyStepPatch } from '../apply-patch.js';
import { meetsCondition } from '../contracts/run-store.js';
import type {
  RunCondition,
  RunPatch,
  RunRecord,
  RunStep,
  RunStore,
} from '../contracts/run-store.js';
import { parseJsonColumn, runFromRow, runToRow, type RunRow } from '../sql/row-mapping.js';
import { RUNS_TABLE } from '../sql/runs-table.js';
import { tableStatements, UNFINISHED_LIST } from '../sql/schema.js';
import { SQLITE_DIALECT } from './migrations.js';
import type { SqliteConnection } from './connection.js';
import { PRUNE_LIMITS, pruneCutoff, pruneLimit } from '../prune-limits.js';

const DEFAULT_LIST_LIMIT = 50;

const toRecord = (row: RunRow): RunRecord => runFromRow(row, parseJsonColumn);
const toRow = runToRow;
const RUNS = tableStatements(RUNS_TABLE, SQLITE_DIALECT);

/**
 * A {@link RunStore} in a SQLite database. Writes commit in the connection's batch; each
 * read-modify-write reads inside it, under the write lock, so its condition holds when it writes.
 */
export function createSqliteRunStore({ database, writes }: SqliteConnection): RunStore {
  // One statement is atomic on its own: the first claim inserts, every other changes nothing.
  const claim = database.prepare<[RunRow]>(
    `INSERT INTO runs (${RUNS.columns}) VALUES (${RUNS.parameters}) ON CONFLICT (run_id) DO NOTHING`,
  );
  const replace = database.prepare<[RunRow]>(`
    UPDATE runs SET ${RUNS.assignments}
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
    SELECT * FROM runs WHERE status IN (${UNFINISHED_LIST}) ORDER BY scheduled_at, run_id
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

  // Retention: an agent's ended runs by `ended_at` (index runs_by_ended_at, schema version 8).
  const selectEnded = database.prepare<[string, string, number], { run_id: string }>(`
    SELECT run_id FROM runs
    WHERE agent_id = ? AND ended_at IS NOT NULL AND ended_at < ? AND status NOT IN (${UNFINISHED_LIST})
    ORDER BY ended_at, run_id LIMIT ?
  `);
  const removeStepsOf = database.prepare<[string]>(
    'DELETE FROM run_steps WHERE run_id IN (SELECT value FROM json_each(?))',
  );
  const removeRunsIn = database.prepare<[string]>(
    'DELETE FROM runs WHERE run_id IN (SELECT value FROM json_each(?))',
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
      const snapshot = copyPlain(patch);
      const when = condition && copyPlain(condition);
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
      const snapshot = copyPlain(patch);
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

    async pruneEnded(options) {
      const limit = pruneLimit(options.limit, PRUNE_LIMITS.runs);
      const before = new Date(pruneCutoff(options.ended_before, 'ended_before')).toISOString();
      if (options.dry_run) {
        return writes
          .read(['runs'], () => selectEnded.all(options.agent_id, before, -1))
          .map((row) => row.run_id);
      }
      // Chosen and removed in one savepoint of a BEGIN IMMEDIATE batch: under the write lock, so
      // a process sweeping at the same time finds them gone.
      return writes.write(['runs'], () => {
        const runIds = selectEnded.all(options.agent_id, before, limit).map((row) => row.run_id);
        if (runIds.length === 0) return runIds;
        const list = JSON.stringify(runIds);
        removeStepsOf.run(list);
        removeRunsIn.run(list);
        return runIds;
      });
    },
  };
}
