import { copyPlain } from '../../shared/copy-plain.js';
import { NightshiftError } from '../../errors.js';
import { applyRunPatch, applyStepPatch } from '../apply-patch.js';
import {
  isTerminal,
  meetsCondition,
  TERMINAL_STATUSES,
  UNFINISHED_STATUSES,
  type RunCondition,
  type RunPatch,
  type RunRecord,
  type RunStatus,
  type RunStep,
  type RunStore,
} from '../contracts/run-store.js';
import type { RedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';
import type { IndexMove } from './scripts.js';
import { KnownValues } from './known-values.js';
import { sendPrepared, type PreparedWrite } from './prepared-write.js';
import { readJsonValues } from './read-json-values.js';
import { CONFLICT, retryOnConflict } from '../retry-on-conflict.js';
import { PRUNE_LIMITS, pruneCutoff, pruneLimit } from '../prune-limits.js';

const DEFAULT_LIST_LIMIT = 50;
const ALL_STATUSES: readonly RunStatus[] = [...UNFINISHED_STATUSES, ...TERMINAL_STATUSES];
/** Runs deleted per transaction by `deleteByAgent`. */
const DELETE_BATCH = 200;
/** Index members read per round by `pruneEnded`. */
const PRUNE_PAGE = 500;
/**
 * Separates `scheduled_at` from `run_id` in index members. It sorts below every other
 * byte, so members in byte order are runs in (scheduled_at, run_id) order: SQLite's
 * `ORDER BY scheduled_at, run_id`.
 */
const MEMBER_SEPARATOR = '\u0000';

function indexMember(run: RunRecord): string {
  return `${run.scheduled_at}${MEMBER_SEPARATOR}${run.run_id}`;
}

function runIdOf(member: string): string {
  return member.slice(member.indexOf(MEMBER_SEPARATOR) + 1);
}

/** Orders strings by their UTF-8 bytes, as Redis orders sorted-set members. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The run writes a run's phases send along with others (see `run-phases.ts`). */
export interface RedisRunWrites {
  /** `claim` as a compare-and-set from absent, with the run's index entries. */
  claim(run: RunRecord): PreparedWrite<void>;
  /**
   * `update` as a compare-and-set on the run as this store last wrote it, when it knows it
   * (forgotten from now on) and it meets `condition`; undefined otherwise, when `update` is to
   * judge it on a read.
   */
  guessedUpdate(
    runId: string,
    patch: RunPatch,
    condition?: RunCondition,
  ): PreparedWrite<RunRecord> | undefined;
}

/** A Redis {@link RunStore}, with the writes it prepares for a run's phases. */
export interface RedisRunStore {
  store: RunStore;
  writes: RedisRunWrites;
}

/**
 * A {@link RunStore} in Redis. Each run is a JSON value; sorted sets index an agent's runs
 * (all, and per status) and every unfinished run, and move with the record in the same
 * Lua step. Steps are a list per run, with a set of their ids to refuse duplicates.
 */
export function createRedisRunStore(connection: RedisConnection, keys: RedisKeys): RedisRunStore {
  /** Steps this process appended, with where they went in their run's list and their JSON. */
  const written = new KnownValues<{ position: number; value: string }>(WRITTEN_STEPS_KEPT);
  const stepKey = (runId: string, stepId: string) => `${runId}\u0000${stepId}`;
  /** Unfinished runs as this process last wrote them: their next update sends no read first. */
  const known = new KnownValues(KNOWN_RUNS_KEPT);

  /** Remembers a run this process wrote, while it is unfinished (an ended run rarely changes). */
  function rememberRun(run: RunRecord, value: string): void {
    if (isTerminal(run.status)) known.forget(keys.run(run.run_id));
    else known.remember(keys.run(run.run_id), value);
  }

  /** The index sets a run in this status belongs to. */
  function indexesOf(run: RunRecord, status: RunStatus): string[] {
    const indexes = [keys.agentRunsWithStatus(run.agent_id, status)];
    if (!isTerminal(status)) indexes.push(keys.unfinishedRuns);
    return indexes;
  }

  /** The index entries to move when a run goes from `before` to `after`. */
  function indexMove(before: RunRecord, after: RunRecord): IndexMove | undefined {
    if (before.status === after.status) return undefined;
    const leaving = indexesOf(before, before.status);
    const entering = indexesOf(after, after.status);
    return {
      member: indexMember(after),
      remove: leaving.filter((key) => !entering.includes(key)),
      add: entering.filter((key) => !leaving.includes(key)),
    };
  }

  /**
   * The write taking the run stored as `current` through `patch`; undefined when it fails
   * `condition` (judged on `current`: the write applies only if it is still stored).
   */
  function updateWrite(
    key: string,
    current: string,
    patch: RunPatch,
    condition: RunCondition | undefined,
  ): PreparedWrite<RunRecord> | undefined {
    const run = JSON.parse(current) as RunRecord;
    if (!meetsCondition(run, condition)) return undefined;
    const next = applyRunPatch(run, patch);
    const value = JSON.stringify(next);
    return {
      write: { key, expected: current, next: value, index: indexMove(run, next) },
      applied() {
        rememberRun(next, value);
        return next;
      },
    };
  }

  const writes: RedisRunWrites = {
    claim(run) {
      const value = JSON.stringify(run);
      return {
        write: {
          key: keys.run(run.run_id),
          expected: null,
          next: value,
          index: {
            member: indexMember(run),
            remove: [],
            add: [keys.agentRuns(run.agent_id), ...indexesOf(run, run.status)],
          },
        },
        applied: () => rememberRun(run, value),
      };
    },

    guessedUpdate(runId, patch, condition) {
      const key = keys.run(runId);
      const current = known.take(key);
      if (current === undefined) return undefined;
      // Copies, as `update` makes: the run written shares nothing with the caller's objects.
      return updateWrite(key, current, copyPlain(patch), copyPlain(condition));
    },
  };

  async function readRuns(members: readonly string[], statuses?: ReadonlySet<RunStatus>) {
    const runs = await readJsonValues<RunRecord>(
      connection,
      members.map((member) => keys.run(runIdOf(member))),
    );
    // A run that changed status since the index was read is shown as it is now.
    return statuses ? runs.filter((run) => statuses.has(run.status)) : runs;
  }

  /** The newest `limit` members of each index, merged newest first. */
  async function newestMembers(indexes: readonly string[], limit: number): Promise<string[]> {
    const lists = await Promise.all(
      indexes.map((index) =>
        connection.run((client) =>
          client.zrange(index, '+', '-', 'BYLEX', 'REV', 'LIMIT', 0, limit),
        ),
      ),
    );
    if (lists.length === 1) return lists[0]!;
    return [...new Set(lists.flat())].sort((a, b) => compareBytes(b, a)).slice(0, limit);
  }

  /**
   * The agent's ended runs that ended before `before`, oldest `ended_at` first: up to `wanted`
   * of each ended status, merged. Read from the ended statuses' indexes among runs scheduled
   * before `before` (a run ends after it is due), oldest due first, a page at a time.
   */
  async function endedBefore(agentId: string, before: string, wanted: number) {
    const cutoff = Date.parse(before);
    const found: RunRecord[] = [];
    for (const status of TERMINAL_STATUSES) {
      const index = keys.agentRunsWithStatus(agentId, status);
      let ofStatus = 0;
      for (let offset = 0; ofStatus < wanted; offset += PRUNE_PAGE) {
        const members = await connection.run((client) =>
          client.zrange(index, '-', `(${before}`, 'BYLEX', 'LIMIT', offset, PRUNE_PAGE),
        );
        const due = (await readRuns(members, new Set([status]))).filter(
          (run) => run.ended_at !== null && Date.parse(run.ended_at) < cutoff,
        );
        found.push(...due);
        ofStatus += due.length;
        if (members.length < PRUNE_PAGE) break;
      }
    }
    return found.sort(
      (a, b) => compareBytes(a.ended_at!, b.ended_at!) || compareBytes(a.run_id, b.run_id),
    );
  }

  const store: RunStore = {
    async claim(run) {
      const claimed = await sendPrepared(connection, writes.claim(run));
      return claimed !== CONFLICT;
    },

    async get(runId) {
      const value = await connection.run((client) => client.get(keys.run(runId)));
      return value === null ? undefined : (JSON.parse(value) as RunRecord);
    },

    async update(runId, patch, condition) {
      // Applied after a read: a copy, so what the caller changes meanwhile does not reach it.
      patch = copyPlain(patch);
      condition = copyPlain(condition);
      const key = keys.run(runId);
      // First the run as this process last wrote it, if it did; read when that is not it.
      const currentValue = known.firstThenRead(key, () =>
        connection.run((client) => client.get(key)),
      );
      return retryOnConflict(`updating run ${runId}`, async () => {
        const { value: current, guessed } = await currentValue();
        if (current === null) return undefined;
        const write = updateWrite(key, current, patch, condition);
        // A condition the value read fails: nothing to write (a guess is read first).
        if (!write) return guessed ? CONFLICT : undefined;
        return sendPrepared(connection, write);
      });
    },

    async list(agentId, options = {}) {
      const limit = Math.max(0, options.limit ?? DEFAULT_LIST_LIMIT);
      if (limit === 0) return [];
      if (options.status === undefined) {
        return readRuns(await newestMembers([keys.agentRuns(agentId)], limit));
      }
      const statuses = new Set<RunStatus>(
        typeof options.status === 'string' ? [options.status] : options.status,
      );
      const indexes = [...statuses].map((status) => keys.agentRunsWithStatus(agentId, status));
      return readRuns(await newestMembers(indexes, limit), statuses);
    },

    async listUnfinished() {
      // Oldest first: recovery deals with runs in the order they were due.
      const members = await connection.run((client) =>
        client.zrange(keys.unfinishedRuns, '-', '+', 'BYLEX'),
      );
      return readRuns(members, new Set(UNFINISHED_STATUSES));
    },

    async appendStep(step) {
      const value = JSON.stringify(step);
      const position = await connection.run(() =>
        connection.scripts.appendUnique(
          keys.runStepIds(step.run_id),
          keys.runSteps(step.run_id),
          step.step_id,
          value,
        ),
      );
      if (position !== undefined)
        written.remember(stepKey(step.run_id, step.step_id), { position, value });
      if (position === undefined) {
        throw new NightshiftError(
          'invalid_state',
          `step ${step.step_id} of run ${step.run_id} is already recorded`,
          { details: { run_id: step.run_id, step_id: step.step_id } },
        );
      }
    },

    async updateStep(runId, stepId, patch) {
      // Applied after a read: a copy, so what the caller changes meanwhile does not reach it.
      patch = copyPlain(patch);
      const key = keys.runSteps(runId);
      // A step this process wrote is updated where it put it, as it wrote it: one round trip,
      // still a compare-and-set (another process's change since sends it the long way).
      const mine = written.take(stepKey(runId, stepId));
      if (mine) {
        const next = JSON.stringify(applyStepPatch(JSON.parse(mine.value) as RunStep, patch));
        const set = await connection.run(() =>
          connection.scripts.setListItemIfUnchanged(key, mine.position, mine.value, next),
        );
        if (set) return;
      }
      await retryOnConflict(`updating step ${stepId} of run ${runId}`, async () => {
        const items = await connection.run((client) => client.lrange(key, 0, -1));
        const position = items.findIndex(
          (item) => (JSON.parse(item) as RunStep).step_id === stepId,
        );
        const current = items[position];
        if (current === undefined) return undefined;
        const next = applyStepPatch(JSON.parse(current) as RunStep, patch);
        const written = await connection.run(() =>
          connection.scripts.setListItemIfUnchanged(key, position, current, JSON.stringify(next)),
        );
        return written ? undefined : CONFLICT;
      });
    },

    async listSteps(runId) {
      const items = await connection.run((client) => client.lrange(keys.runSteps(runId), 0, -1));
      return items.map((item) => JSON.parse(item) as RunStep);
    },

    async pruneEnded(options) {
      const limit = pruneLimit(options.limit, PRUNE_LIMITS.runs);
      const before = new Date(pruneCutoff(options.ended_before, 'ended_before')).toISOString();
      const wanted = options.dry_run ? Number.POSITIVE_INFINITY : limit;
      const due = (await endedBefore(options.agent_id, before, wanted)).slice(0, wanted);
      if (options.dry_run || due.length === 0) return due.map((run) => run.run_id);
      // One transaction: a reader sees a run with its index entries and steps, or none of them.
      // An ended run is never written again, so what was read is what goes; of processes
      // pruning at once, the one whose DEL removed the record counts it.
      const replies = await connection.run((client) => {
        const transaction = client.multi();
        for (const run of due) {
          const member = indexMember(run);
          transaction
            .del(keys.run(run.run_id))
            .del(keys.runSteps(run.run_id), keys.runStepIds(run.run_id))
            .zrem(keys.agentRuns(run.agent_id), member)
            .zrem(keys.agentRunsWithStatus(run.agent_id, run.status), member);
        }
        return transaction.exec();
      });
      return due
        .filter((_run, position) => replies?.[position * 4]?.[1] === 1)
        .map((run) => run.run_id);
    },

    async deleteByAgent(agentId) {
      const agentRuns = keys.agentRuns(agentId);
      const statusIndexes = ALL_STATUSES.map((status) => keys.agentRunsWithStatus(agentId, status));
      // Batch by batch, each in one transaction: a reader sees a run with all its index
      // entries and steps, or none of them. Runs claimed meanwhile are deleted too.
      for (;;) {
        const members = await connection.run((client) =>
          client.zrange(agentRuns, 0, String(DELETE_BATCH - 1)),
        );
        if (members.length === 0) return;
        const runIds = members.map(runIdOf);
        await connection.run((client) => {
          const transaction = client
            .multi()
            .del(
              ...runIds.flatMap((runId) => [
                keys.run(runId),
                keys.runSteps(runId),
                keys.runStepIds(runId),
              ]),
            )
            .zrem(agentRuns, ...members)
            .zrem(keys.unfinishedRuns, ...members);
          for (const index of statusIndexes) transaction.zrem(index, ...members);
          return transaction.exec();
        });
      }
    },
  };
  return { store, writes };
}

/** The most unfinished runs a run store remembers having written. */
const KNOWN_RUNS_KEPT = 5_000;

/**
 * The most steps a run store remembers having written and not yet updated: a step is appended
 * `started` and updated once, `completed`, by the process running it, and a run's list only
 * grows, so where it went holds.
 */
const WRITTEN_STEPS_KEPT = 10_000;
