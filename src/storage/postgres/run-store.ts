import { NightshiftError } from '../../errors.js';
import { applyRunPatch, applyStepPatch } from '../apply-patch.js';
import { isTerminal, meetsCondition } from '../contracts/run-store.js';
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
import {
  compareAndSet,
  KnownVersions,
  ROW_VERSION,
  unchangedSince,
  type Versioned,
} from './compare-and-set.js';
import type { PostgresDatabase } from './database.js';

const DEFAULT_LIST_LIMIT = 50;
/** Unfinished runs and steps remembered for writing without a read (`compare-and-set.ts`). */
const KNOWN_LIMIT = 10_000;

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

/** The key of a step among the remembered ones. */
function stepKey(runId: string, stepId: string): string {
  return JSON.stringify([runId, stepId]);
}

/** A {@link RunStore} in a Postgres schema. */
export function createPostgresRunStore(database: PostgresDatabase): RunStore {
  const runs = database.table('runs');
  const steps = database.table('run_steps');
  // One statement is atomic on its own: the first claim inserts, every other changes nothing.
  const claim = database.prepare(`INSERT INTO ${runs} (${COLUMNS}) VALUES (${PLACEHOLDERS})
    ON CONFLICT (run_id) DO NOTHING RETURNING ${ROW_VERSION}`);
  const select = database.prepare(`SELECT ${COLUMNS} FROM ${runs} WHERE run_id = $1`);
  const selectVersioned = database.prepare(
    `SELECT ${ROW_VERSION}, ${COLUMNS} FROM ${runs} WHERE run_id = $1`,
  );
  // Only the columns a patch may move; identity columns are never written again.
  const replace = database.prepare(`
    UPDATE ${runs} SET started_at = $2, ended_at = $3, status = $4, attempts = $5::jsonb,
      output = $6, error = $7::jsonb, usage = $8::jsonb, skip_reason = $9, lease_owner = $10,
      lease_expires_at = $11
    WHERE run_id = $1 AND ${unchangedSince(12)}
    RETURNING ${ROW_VERSION}
  `);
  const byAgent = `SELECT ${COLUMNS} FROM ${runs} WHERE agent_id = $1`;
  const newestFirst = 'ORDER BY scheduled_at DESC, run_id DESC';
  const newest = database.prepare(`${byAgent} ${newestFirst} LIMIT $2`);
  const newestWithStatus = database.prepare(
    `${byAgent} AND status = ANY($2::text[]) ${newestFirst} LIMIT $3`,
  );
  const unfinished = database.prepare(
    `SELECT ${COLUMNS} FROM ${runs} WHERE status IN ('pending', 'running') ORDER BY scheduled_at, run_id`,
  );
  const appendStep = database.prepare(`
    INSERT INTO ${steps} (run_id, step_id, step) VALUES ($1, $2, $3::jsonb)
    ON CONFLICT DO NOTHING RETURNING ${ROW_VERSION}
  `);
  const selectStep = database.prepare(
    `SELECT ${ROW_VERSION}, step FROM ${steps} WHERE run_id = $1 AND step_id = $2`,
  );
  const replaceStep = database.prepare(`
    UPDATE ${steps} SET step = $3::jsonb
    WHERE run_id = $1 AND step_id = $2 AND ${unchangedSince(4)} RETURNING ${ROW_VERSION}
  `);
  const stepsOfRun = database.prepare(
    `SELECT step FROM ${steps} WHERE run_id = $1 ORDER BY sequence`,
  );
  // One statement: the runs and their steps go together, or not at all.
  const deleteByAgent = database.prepare(`
    WITH removed AS (DELETE FROM ${runs} WHERE agent_id = $1 RETURNING run_id)
    DELETE FROM ${steps} WHERE run_id IN (SELECT run_id FROM removed)
  `);
  // A finished run, or step, is rarely written again: not worth remembering.
  const knownRuns = new KnownVersions<RunRecord>({
    limit: KNOWN_LIMIT,
    keep: (run) => !isTerminal(run.status),
  });
  const knownSteps = new KnownVersions<RunStep>({
    limit: KNOWN_LIMIT,
    keep: (step) => step.state !== 'completed',
  });

  return {
    async claim(run) {
      const { rows } = await database.write<Versioned>(claim, toParameters(run));
      const version = rows[0]?.row_version;
      // As a read would give it back: only the columns.
      if (version !== undefined) knownRuns.remember(run.run_id, version, toRecord(run));
      return version !== undefined;
    },

    async get(runId) {
      const { rows } = await database.read<RunRow>(select, [runId]);
      return rows[0] && toRecord(rows[0]);
    },

    async update(runId, patch, condition) {
      // Applied after a read: a copy, so what the caller changes meanwhile does not reach it.
      patch = structuredClone(patch);
      condition = structuredClone(condition);
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
          if (!run || !meetsCondition(run, condition)) return { result: undefined };
          const next = applyRunPatch(run, patch);
          return { result: next, write: next };
        },
        async write(next, version) {
          const parameters = [...toPatchParameters(next), version];
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
      const { rows } = await database.write<Versioned>(appendStep, [
        step.run_id,
        step.step_id,
        JSON.stringify(step),
      ]);
      const version = rows[0]?.row_version;
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
      patch = structuredClone(patch);
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
          const parameters = [runId, stepId, JSON.stringify(next), version];
          const { rows } = await database.write<Versioned>(replaceStep, parameters);
          return rows[0]?.row_version;
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
  };
}
