import { copyPlain } from '../../shared/copy-plain.js';
import { NightshiftError } from '../../errors.js';
import { applyRunPatch, applyStepPatch } from '../apply-patch.js';
import { isTerminal, meetsCondition } from '../contracts/run-store.js';
import type {
  RunCondition,
  RunPatch,
  RunRecord,
  RunStep,
  RunStore,
} from '../contracts/run-store.js';
import {
  parsedJsonColumn,
  runFromRow,
  runToRow,
  valuesOf,
  type RunRow,
} from '../sql/row-mapping.js';
import { RUNS_TABLE } from '../sql/runs-table.js';
import { tableStatements, UNFINISHED_LIST } from '../sql/schema.js';
import {
  compareAndSet,
  KnownVersions,
  rowVersion,
  versionedUpdate,
  type Versioned,
  type VersionedUpdate,
} from './compare-and-set.js';
import type { PostgresDatabase } from './connection.js';
import { batchedReads } from './batched-reads.js';
import { createStepBatchWriter } from './step-batch-writer.js';
import { POSTGRES_DIALECT } from './migrations.js';
import { PRUNE_LIMITS, pruneCutoff, pruneLimit } from '../prune-limits.js';

const DEFAULT_LIST_LIMIT = 50;
/** Unfinished runs and steps remembered for writing without a read (`compare-and-set.ts`). */
const KNOWN_LIMIT = 10_000;

const RUNS = tableStatements(RUNS_TABLE, POSTGRES_DIALECT);
const COLUMNS = RUNS.columns;
const toRecord = (row: RunRow): RunRecord => runFromRow(row, parsedJsonColumn);

/** The key of a step among the remembered ones. */
function stepKey(runId: string, stepId: string): string {
  return JSON.stringify([runId, stepId]);
}

/**
 * The run after `patch`, or undefined when there is no run or it fails `condition` (nothing
 * to write): the rule of `runs.update`, also on a run phase's guess (`run-phases.ts`).
 */
export function patchedRun(
  run: RunRecord | undefined,
  patch: RunPatch,
  condition: RunCondition | undefined,
): RunRecord | undefined {
  if (!run || !meetsCondition(run, condition)) return undefined;
  return applyRunPatch(run, patch);
}

/** How runs' rows are written: shared by the run store and the run phases (`run-phases.ts`). */
export interface PostgresRunRows {
  /** The unfinished runs this process last wrote (or read one by one), with their versions. */
  readonly known: KnownVersions<RunRecord>;
  /** A run's compare-and-set UPDATE. */
  readonly update: VersionedUpdate<RunRecord>;
  /**
   * INSERT of a run unless its id is taken (and only `when`, an SQL condition, if given),
   * RETURNING row_version; its parameters are {@link PostgresRunRows.insertParameters}.
   */
  insertText(when?: string): string;
  insertParameters(run: RunRecord): unknown[];
  /** Remembers a run this process inserted as `version`, as a read would give it back. */
  inserted(run: RunRecord, version: string): void;
}

/** The {@link PostgresRunRows} of the `runs` table in `database`'s schema. */
export function postgresRunRows(database: PostgresDatabase): PostgresRunRows {
  const table = database.table('runs');
  // A finished run is rarely written again: not worth remembering.
  const known = new KnownVersions<RunRecord>({
    limit: KNOWN_LIMIT,
    keep: (run) => !isTerminal(run.status),
  });
  return {
    known,
    // Only the columns a patch may move; identity columns are never written again.
    update: versionedUpdate({
      table,
      key: 'run_id',
      assignments: RUNS.assignments,
      assigned: RUNS.changing.length,
      values: (next) => [next.run_id, ...valuesOf(runToRow(next), RUNS.changing)],
    }),
    insertText: (when) => `INSERT INTO ${table} (${COLUMNS})
      SELECT ${RUNS.parameters}${when === undefined ? '' : ` WHERE ${when}`}
      ON CONFLICT (run_id) DO NOTHING RETURNING ${rowVersion.column}`,
    insertParameters: (run) => valuesOf(runToRow(run), RUNS_TABLE.columns),
    inserted(run, version) {
      // As a read would give it back: only the columns (a replay's, NULL on other runs).
      const columns = {
        ...run,
        replay_of: run.replay_of ?? null,
        replay_mode: run.replay_mode ?? null,
      };
      known.remember(run.run_id, version, toRecord(columns));
    },
  };
}

/**
 * A {@link RunStore} in a Postgres schema; `runRows` shared with the store's run phases, so
 * that each knows the versions the other wrote.
 */
export function createPostgresRunStore(
  database: PostgresDatabase,
  runRows: PostgresRunRows = postgresRunRows(database),
): RunStore {
  const runs = database.table('runs');
  const steps = database.table('run_steps');
  // One statement is atomic on its own: the first claim inserts, every other changes nothing.
  const claim = database.prepare(runRows.insertText());
  // Runs read together (ticks of busy agents asking whether their last run ended): one statement.
  const readRun = batchedReads<RunRow>(
    database,
    database.prepare(`SELECT ${COLUMNS} FROM ${runs} WHERE run_id = ANY($1::text[])`),
    'run_id',
  );
  const selectVersioned = database.prepare(
    `SELECT ${rowVersion.column}, ${COLUMNS} FROM ${runs} WHERE run_id = $1`,
  );
  const replace = database.prepare(runRows.update.text());
  const byAgent = `SELECT ${COLUMNS} FROM ${runs} WHERE agent_id = $1`;
  const newestFirst = 'ORDER BY scheduled_at DESC, run_id DESC';
  const newest = database.prepare(`${byAgent} ${newestFirst} LIMIT $2`);
  const newestWithStatus = database.prepare(
    `${byAgent} AND status = ANY($2::text[]) ${newestFirst} LIMIT $3`,
  );
  const unfinished = database.prepare(
    `SELECT ${COLUMNS} FROM ${runs} WHERE status IN (${UNFINISHED_LIST}) ORDER BY scheduled_at, run_id`,
  );
  // Steps of runs written together go in one statement (`step-batch-writer.ts`).
  const stepWriter = createStepBatchWriter(database);
  const selectStep = database.prepare(
    `SELECT ${rowVersion.column}, step FROM ${steps} WHERE run_id = $1 AND step_id = $2`,
  );
  const stepsOfRun = database.prepare(
    `SELECT step FROM ${steps} WHERE run_id = $1 ORDER BY sequence`,
  );
  // One statement: the runs and their steps go together, or not at all.
  const deleteByAgent = database.prepare(`
    WITH removed AS (DELETE FROM ${runs} WHERE agent_id = $1 RETURNING run_id)
    DELETE FROM ${steps} WHERE run_id IN (SELECT run_id FROM removed)
  `);
  // Retention: an agent's ended runs by `ended_at` (index runs_by_ended_at, schema version 8).
  const endedRuns = `SELECT run_id FROM ${runs}
    WHERE agent_id = $1 AND ended_at IS NOT NULL AND ended_at COLLATE "C" < $2
      AND status NOT IN (${UNFINISHED_LIST})
    ORDER BY ended_at COLLATE "C", run_id`;
  const listEnded = database.prepare(endedRuns);
  // One statement: the runs and their steps go together. A process pruning at the same time
  // skips the rows this one holds, and finds them gone after; each run is returned once.
  const pruneEnded = database.prepare(`
    WITH due AS (${endedRuns} LIMIT $3 FOR UPDATE SKIP LOCKED),
    removed AS (DELETE FROM ${runs} WHERE run_id IN (SELECT run_id FROM due) RETURNING run_id),
    removed_steps AS (DELETE FROM ${steps} WHERE run_id IN (SELECT run_id FROM removed))
    SELECT run_id FROM removed
  `);
  const knownRuns = runRows.known;
  // A finished step is rarely written again: not worth remembering.
  const knownSteps = new KnownVersions<RunStep>({
    limit: KNOWN_LIMIT,
    keep: (step) => step.state !== 'completed',
  });

  return {
    async claim(run) {
      const { rows } = await database.write<Versioned>(claim, runRows.insertParameters(run));
      const version = rows[0]?.row_version;
      if (version !== undefined) runRows.inserted(run, version);
      return version !== undefined;
    },

    async get(runId) {
      const row = await readRun(runId);
      return row && toRecord(row);
    },

    async update(runId, patch, condition) {
      // Applied after a read: a copy, so what the caller changes meanwhile does not reach it.
      patch = copyPlain(patch);
      condition = copyPlain(condition);
      // The condition is judged on the version the write replaces, so of racing conditional
      // updates (two processes taking over one run) exactly one sees it still met.
      return compareAndSet({
        what: `updating run ${runId}`,
        key: runId,
        known: knownRuns,
        async read() {
          const { rows } = await database.read<RunRow & Versioned>(selectVersioned, [runId]);
          return rows[0] && { version: rows[0].row_version, value: toRecord(rows[0]) };
        },
        decide(run) {
          const next = patchedRun(run, patch, condition);
          return { result: next, ...(next && { write: next }) };
        },
        async write(next, version) {
          const parameters = runRows.update.parameters(next, version);
          const { rows } = await database.write<Versioned>(replace, parameters);
          return rows[0]?.row_version;
        },
      });
    },

    async list(agentId, options = {}) {
      const limit = Math.max(0, options.limit ?? DEFAULT_LIST_LIMIT);
      if (options.status === undefined) {
        const { rows } = await database.read<RunRow>(newest, [agentId, limit]);
        return rows.map(toRecord);
      }
      const statuses = typeof options.status === 'string' ? [options.status] : [...options.status];
      const { rows } = await database.read<RunRow>(newestWithStatus, [agentId, statuses, limit]);
      return rows.map(toRecord);
    },

    async listUnfinished() {
      // Oldest first: recovery deals with runs in the order they were due.
      const { rows } = await database.read<RunRow>(unfinished);
      return rows.map(toRecord);
    },

    async appendStep(step) {
      const version = await stepWriter.append(step);
      if (version === undefined) {
        throw new NightshiftError(
          'invalid_state',
          `step ${step.step_id} of run ${step.run_id} is already recorded`,
          { details: { run_id: step.run_id, step_id: step.step_id } },
        );
      }
      knownSteps.remember(stepKey(step.run_id, step.step_id), version, step);
    },

    async updateStep(runId, stepId, patch) {
      // Applied after a read: a copy, so what the caller changes meanwhile does not reach it.
      patch = copyPlain(patch);
      await compareAndSet({
        what: `updating step ${stepId} of run ${runId}`,
        key: stepKey(runId, stepId),
        known: knownSteps,
        async read() {
          const { rows } = await database.read<{ step: RunStep } & Versioned>(selectStep, [
            runId,
            stepId,
          ]);
          return rows[0] && { version: rows[0].row_version, value: rows[0].step };
        },
        decide(step) {
          return { result: undefined, ...(step && { write: applyStepPatch(step, patch) }) };
        },
        async write(next, version) {
          return version === undefined ? undefined : stepWriter.replace(next, version);
        },
      });
    },

    async listSteps(runId) {
      const { rows } = await database.read<{ step: RunStep }>(stepsOfRun, [runId]);
      return rows.map((row) => row.step);
    },

    async deleteByAgent(agentId) {
      await database.write(deleteByAgent, [agentId]);
    },

    async pruneEnded(options) {
      const limit = pruneLimit(options.limit, PRUNE_LIMITS.runs);
      const before = new Date(pruneCutoff(options.ended_before, 'ended_before')).toISOString();
      const { rows } = options.dry_run
        ? await database.read<{ run_id: string }>(listEnded, [options.agent_id, before])
        : await database.write<{ run_id: string }>(pruneEnded, [options.agent_id, before, limit]);
      return rows.map((row) => row.run_id);
    },
  };
}
