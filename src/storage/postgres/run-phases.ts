import { copyPlain } from '../../shared/copy-plain.js';
import { withStats } from '../agent-changes.js';
import type { AgentRecord } from '../contracts/agent-store.js';
import type { Lease } from '../contracts/lease-store.js';
import type { RunEndEffects, RunEndWrite, RunPhases } from '../contracts/run-phases.js';
import type { LeaseSlot } from '../lease-rules.js';
import { sequentialRunPhases, type PhaseStores } from '../run-phases.js';
import type { KnownVersions } from './compare-and-set.js';
import type { PostgresDatabase, PreparedStatement } from './connection.js';
import type { PostgresAgentRows } from './agent-store.js';
import { releasedSlot, toSlot, type LeaseRow, type PostgresLeaseRows } from './lease-store.js';
import { patchedRun, type PostgresRunRows } from './run-store.js';

/** How the stores write their rows, shared with the phases: each knows what the other wrote. */
export interface PostgresPhaseRows {
  runs: PostgresRunRows;
  agents: PostgresAgentRows;
  leases: PostgresLeaseRows;
}

/** One row's write sent on a guess: the version it replaces, and the value it writes. */
interface Guessed<T> {
  key: string;
  version: string;
  next: T;
}

/** What a run's end statement gives back: each part's new version, null when it was not written. */
interface EndVersions {
  run: string | null;
  agent?: string | null;
  lease?: string | null;
}

/** What the claim statement gives back; the lease's columns are null when it was not taken. */
type ClaimRow = {
  existed: boolean;
  run_version: string | null;
  lease_version: string | null;
} & { [Column in keyof LeaseRow]: LeaseRow[Column] | null };

/** The stats part of a run's end statement, the release part, or both. */
type EndParts = 'stats' | 'release' | 'both';

/** The condition of an effect's part: only when the run's part was written. */
const AFTER_RUN = 'EXISTS (SELECT FROM run)';

/** How many parameters a statement's text takes: its highest `$n`. */
function parameterCount(text: string): number {
  return Math.max(0, ...Array.from(text.matchAll(/\$(\d+)/g), (match) => Number(match[1])));
}

/** `text` with its parameters `$n` renumbered `$(n + by)`, to follow another part's. */
function shifted(text: string, by: number): string {
  return text.replace(/\$(\d+)/g, (_, index: string) => `$${Number(index) + by}`);
}

/** Statements as common table expressions, their parameters following one another in order. */
function withParts(parts: readonly (readonly [name: string, text: string])[]): string {
  let offset = 0;
  const expressions = parts.map(([name, text]) => {
    const expression = `${name} AS (${shifted(text, offset)})`;
    offset += parameterCount(text);
    return expression;
  });
  return `WITH ${expressions.join(',\n')}`;
}

/**
 * A run's end as one statement: the run's compare-and-set UPDATE, then the agent's and the
 * lease's, each applying only if the run's did; returns each part's new version.
 */
function endStatementText(rows: PostgresPhaseRows, parts: EndParts): string {
  const stats = parts !== 'release';
  const release = parts !== 'stats';
  const written: [string, string][] = [['run', rows.runs.update.text()]];
  if (stats) written.push(['agent', rows.agents.update.text(AFTER_RUN)]);
  if (release) written.push(['lease', rows.leases.update.text(AFTER_RUN)]);
  const versions = written.map(([name]) => `(SELECT row_version FROM ${name}) AS ${name}`);
  return `${withParts(written)}\nSELECT ${versions.join(', ')}`;
}

/**
 * A run's claim as one statement: the lease taken (`$1`–`$4`) unless run `$5` exists, the run
 * inserted (from `$6`) only if the lease was. The existence is judged on the statement's
 * snapshot; a run a racing claim inserts after it is met by the insert's ON CONFLICT.
 */
function claimStatementText(rows: PostgresPhaseRows, runs: string): string {
  const exists = `EXISTS (SELECT FROM ${runs} WHERE run_id = $5)`;
  const lease = rows.leases.acquireText(`NOT ${exists}`);
  const run = rows.runs.insertText('EXISTS (SELECT FROM lease)');
  return `${withParts([
    ['lease', lease],
    ['run', run],
  ])}
    SELECT ${exists} AS existed, (SELECT row_version FROM run) AS run_version,
      lease.row_version AS lease_version, lease.key, lease.holder, lease.token, lease.expires_at
    FROM (SELECT) AS once LEFT JOIN lease ON TRUE`;
}

/**
 * Settles one effect of a run's end that followed the run's write: remembers what a part
 * sent on a guess wrote (`version`), else (no guess, or a stale one, forgotten) does it as
 * its single call, which reads the row afresh.
 */
async function settled<T, R>(
  part: Guessed<T> | undefined,
  version: string | null | undefined,
  known: KnownVersions<T>,
  written: (next: T) => R,
  single: () => Promise<R>,
): Promise<R> {
  if (part && version) {
    known.remember(part.key, version, part.next);
    return written(part.next);
  }
  if (part) known.forget(part.key, part.version);
  return single();
}

/**
 * {@link RunPhases} on Postgres, one statement a phase in the usual case. The claim is always
 * one statement (two when a racing claim inserted the run meanwhile: the lease goes back). The
 * end is one when this process knows the run's row (it claimed it) and the agent's or the
 * lease's: the new values are computed from the known ones by the stores' rules and written by
 * compare-and-set on their versions, in one statement. A part whose guess was stale is done
 * again as its single call, reading afresh; a run whose guess was stale, or fails the
 * condition, is ended by the single calls one after another, as is one that is not known.
 */
export function createPostgresRunPhases(
  database: PostgresDatabase,
  stores: PhaseStores,
  rows: PostgresPhaseRows,
): RunPhases {
  const sequential = sequentialRunPhases(stores);
  const claimStatement = database.prepare(claimStatementText(rows, database.table('runs')));
  const endStatements: Record<EndParts, PreparedStatement> = {
    stats: database.prepare(endStatementText(rows, 'stats')),
    release: database.prepare(endStatementText(rows, 'release')),
    both: database.prepare(endStatementText(rows, 'both')),
  };

  /** The agent's stats write on this process's guess, if it has one. */
  function guessedStats(stats: RunEndEffects['stats']): Guessed<AgentRecord> | undefined {
    const guess = stats && rows.agents.known.get(stats.agent_id);
    if (!stats || !guess) return undefined;
    return {
      key: stats.agent_id,
      version: guess.version,
      next: withStats(guess.value, stats.delta),
    };
  }

  /** The lease's release on this process's guess, if it has one that still shows it held. */
  function guessedRelease(release: RunEndEffects['release']): Guessed<LeaseSlot> | undefined {
    const guess = release && rows.leases.known.get(release.key);
    // A guess that shows it not held is judged again on a fresh read, by the single call.
    const next =
      release && guess && releasedSlot(guess.value, release.holder, release.token, Date.now());
    if (!release || !guess || !next) return undefined;
    return { key: release.key, version: guess.version, next };
  }

  return {
    async claimLeased(run, request) {
      const { key, holder, ttlMs } = request;
      const parameters = [key, holder, Date.now(), ttlMs, run.run_id];
      const {
        rows: [claim],
      } = await database.write<ClaimRow>(claimStatement, [
        ...parameters,
        ...rows.runs.insertParameters(run),
      ]);
      if (!claim || claim.existed) return { outcome: 'exists' };
      if (claim.lease_version === null) return { outcome: 'lease_held' };
      const { token, expires_at } = toSlot(claim as LeaseRow);
      const lease: Lease = { key, holder, token, expires_at };
      rows.leases.known.remember(key, claim.lease_version, lease);
      if (claim.run_version === null) {
        // Claimed by a racing claim meanwhile: the lease goes back.
        await stores.leases.release(key, holder, token);
        return { outcome: 'exists' };
      }
      rows.runs.inserted(run, claim.run_version);
      return { outcome: 'claimed', lease };
    },

    async end(runId, patch, condition, effects): Promise<RunEndWrite> {
      const guess = rows.runs.known.get(runId);
      // Not met on the guess: judged again on a fresh read, by the single call.
      const run = guess && patchedRun(guess.value, copyPlain(patch), condition);
      const stats = effects.stats && copyPlain(effects.stats);
      const agent = run && guessedStats(stats);
      const lease = run && guessedRelease(effects.release);
      if (!guess || !run || (!agent && !lease)) {
        return sequential.end(runId, patch, condition, effects);
      }
      const parts: EndParts = agent && lease ? 'both' : agent ? 'stats' : 'release';
      const parameters = [
        ...rows.runs.update.parameters(run, guess.version),
        ...(agent ? rows.agents.update.parameters(agent.next, agent.version) : []),
        ...(lease ? rows.leases.update.parameters(lease.next, lease.version) : []),
      ];
      const {
        rows: [versions],
      } = await database.write<EndVersions>(endStatements[parts], parameters);
      if (!versions?.run) {
        // Changed by another since: nothing was written; the single calls read it afresh.
        rows.runs.known.forget(runId, guess.version);
        return sequential.end(runId, patch, condition, effects);
      }
      rows.runs.known.remember(runId, versions.run, run);
      const { release } = effects;
      return {
        run,
        agent:
          stats &&
          (await settled(
            agent,
            versions.agent,
            rows.agents.known,
            (next) => next,
            () => stores.agents.updateStats(stats.agent_id, stats.delta),
          )),
        released:
          release !== undefined &&
          (await settled(
            lease,
            versions.lease,
            rows.leases.known,
            () => true,
            () => stores.leases.release(release.key, release.holder, release.token),
          )),
      };
    },
  };
}
