import { isTerminal, type AttemptRecord, type RunRecord, type Store } from '../../src/index.js';
import { overlaps } from '../helpers/run-overlaps.js';

/** The secret the fleet's answers and tool arguments carry; no stored record may contain it. */
export const FAULT_SECRET = 'fault-secret-value-123';

/** One broken promise: which one, and the record that breaks it. */
export interface Violation {
  promise: 1 | 2 | 3 | 8;
  detail: string;
}

/** Every run of the given agents, read from `store` (a connection of the checker's own). */
export async function readRuns(store: Store, agentIds: readonly string[]): Promise<RunRecord[]> {
  const lists = await Promise.all(
    agentIds.map((agentId) => store.runs.list(agentId, { limit: 1_000_000 })),
  );
  return lists.flat();
}

/** Promise 1: at most one run per (agent_id, scheduled_at) among scheduled runs, and no run id twice. */
export function duplicateTicks(runs: readonly RunRecord[]): Violation[] {
  const violations: Violation[] = [];
  const runIds = new Set<string>();
  const ticks = new Map<string, string>();
  for (const run of runs) {
    if (runIds.has(run.run_id)) {
      violations.push({ promise: 1, detail: `run id ${run.run_id} is stored twice` });
    }
    runIds.add(run.run_id);
    if (run.trigger !== 'schedule') continue;
    const tick = `${run.agent_id} @ ${new Date(run.scheduled_at).toISOString()}`;
    const earlier = ticks.get(tick);
    if (earlier !== undefined) {
      violations.push({
        promise: 1,
        detail: `tick ${tick} has two runs: ${earlier} and ${run.run_id}`,
      });
    }
    ticks.set(tick, run.run_id);
  }
  return violations;
}

/** Promise 2: every run has ended (to be asked once no process can still be running them). */
export function unfinishedRuns(runs: readonly RunRecord[]): Violation[] {
  return runs
    .filter((run) => !isTerminal(run.status))
    .map((run) => ({
      promise: 2 as const,
      detail: `run ${run.run_id} is still ${run.status} (lease ${run.lease_owner ?? 'none'} until ${run.lease_expires_at ?? '-'})`,
    }));
}

/**
 * True for an attempt that recovery wrote for a process that stopped mid-run: its recorded
 * times are not when it executed (it starts at the run's start and ends when recovery came by).
 */
function recoveredAttempt(attempt: AttemptRecord): boolean {
  return attempt.status === 'interrupted' && /lease expired/.test(attempt.error?.message ?? '');
}

/** When processes known to have died did so (instance id → epoch ms), for the overlap check. */
export type DeathTimes = ReadonlyMap<string, number>;

/**
 * Promise 3 (overlap_policy skip): no two runs of one agent execute at once. It is checked per
 * attempt rather than per run: a run resumed after its process died spans the idle time until
 * recovery, during which the agent's next tick may rightly have run.
 *
 * An attempt the executor recorded itself executed from its `started_at` to its `ended_at`. An
 * attempt recovery wrote for a process that stopped mid-run carries no such times (recovery
 * writes the run's start and its own time), so only what the store proves is used: the attempt
 * was executing from its first entry in the run journal to its last one, or, when its process
 * is known to have been killed (`deathTimes`), until the kill. An attempt that left no journal
 * entry proves nothing and is left out. Every interval used lies within the real one, so every
 * overlap reported is real.
 */
export async function overlappingRuns(
  store: Store,
  runs: readonly RunRecord[],
  agentIds: readonly string[],
  deathTimes: DeathTimes = new Map(),
): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const agentId of agentIds) {
    const executions: RunRecord[] = [];
    for (const run of runs) {
      if (run.agent_id !== agentId) continue;
      for (const attempt of run.attempts) {
        let startedAt: string | null = attempt.started_at;
        let endedAt = attempt.ended_at;
        if (recoveredAttempt(attempt)) {
          const journal = await journalSpan(store, run.run_id, attempt.attempt);
          const died = attempt.worker_id ? deathTimes.get(attempt.worker_id) : undefined;
          startedAt = journal?.first ?? null;
          endedAt = died === undefined ? (journal?.last ?? null) : new Date(died).toISOString();
        }
        if (startedAt === null || endedAt === null) continue;
        executions.push({
          ...run,
          run_id: `${run.run_id} (attempt ${attempt.attempt}, ${attempt.status} on ${attempt.worker_id ?? '?'}, ${startedAt} → ${endedAt})`,
          status: attempt.status,
          started_at: startedAt,
          ended_at: endedAt,
        });
      }
    }
    for (const pair of overlaps(executions)) {
      violations.push({ promise: 3, detail: `agent ${agentId}: ${pair} overlap` });
    }
  }
  return violations;
}

/** The first and last times the run journal shows an attempt doing something, if it shows any. */
async function journalSpan(
  store: Store,
  runId: string,
  attempt: number,
): Promise<{ first: string; last: string } | undefined> {
  let first = Infinity;
  let last = -Infinity;
  for (const step of await store.runs.listSteps(runId)) {
    // A resume marker is written by recovery, before the attempt waits for its turn: not work.
    if (step.attempt !== attempt || step.kind === 'resume') continue;
    first = Math.min(first, Date.parse(step.started_at));
    last = Math.max(last, Date.parse(step.ended_at ?? step.started_at));
  }
  if (first === Infinity) return undefined;
  return { first: new Date(first).toISOString(), last: new Date(last).toISOString() };
}

/** Promise 8: where the secret shows in a dump of the raw store (with some text around it). */
export function secretLeaks(dump: string, secret: string = FAULT_SECRET): Violation[] {
  const violations: Violation[] = [];
  for (let at = dump.indexOf(secret); at !== -1; at = dump.indexOf(secret, at + secret.length)) {
    violations.push({
      promise: 8,
      detail: `the secret is stored: …${dump.slice(Math.max(0, at - 120), at + secret.length + 40)}…`,
    });
    if (violations.length >= 5) break;
  }
  return violations;
}
