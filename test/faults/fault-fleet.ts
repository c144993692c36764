import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import type { RunRecord, RunStatus, Store } from '../../src/index.js';
import { FAULT_SECRET, type Violation } from './promise-checks.js';

/** How long a run's lease lasts: short, so recovery after a fault happens within a round. */
export const FAULT_LEASE_TTL_MS = 2_000;

const MEMORY = { memory_config: { mode: 'sliding_window' as const, value: 6 } };

/**
 * The fleet every store runs: four scripted agents ticking every 0.1–0.3 s. `slow-report` and
 * `queued-digest` take longer than their interval, so ticks land while a run is in flight
 * (skipped, or queued). The secret reaches the records through a tool's arguments, the tool's
 * result quoted in an answer, and an answer itself; redaction must keep it out of all of them.
 */
export const FAULT_FLEET: readonly AgentDefinitionInput[] = [
  {
    agent_id: 'disk-check',
    interval: 0.2,
    overlap_policy: 'skip',
    tools: ['system_stats'],
    model_config: {
      provider: 'scripted',
      script: [
        {
          tool: 'system_stats',
          args: { paths: [`/nonexistent/${FAULT_SECRET}`], top_processes: 0 },
        },
        { answer: 'disks: {{system_stats.disks}}' },
      ],
    },
    task_config: { query: 'Check the disk.', max_retries: 1, retry_delay: 0.05 },
    agent_config: MEMORY,
  },
  {
    agent_id: 'slow-report',
    interval: 0.1,
    overlap_policy: 'skip',
    model_config: {
      provider: 'scripted',
      script: [{ delay: 0.35, answer: `report ready, signed with ${FAULT_SECRET}` }],
    },
    task_config: { query: 'Write the report.', max_retries: 1, retry_delay: 0.05 },
    agent_config: MEMORY,
  },
  {
    agent_id: 'quick-ping',
    interval: 0.3,
    overlap_policy: 'skip',
    model_config: { provider: 'scripted', script: [{ answer: 'pong' }] },
    task_config: { query: 'Ping.', max_retries: 2, retry_delay: 0.05 },
    agent_config: MEMORY,
  },
  {
    agent_id: 'queued-digest',
    interval: 0.25,
    overlap_policy: 'queue_one',
    model_config: { provider: 'scripted', script: [{ delay: 0.3, answer: 'digest' }] },
    task_config: { query: 'Digest.', max_retries: 1, retry_delay: 0.05 },
    agent_config: MEMORY,
  },
];

/** Every agent of the fleet. */
export const FLEET_AGENT_IDS: readonly string[] = FAULT_FLEET.map((agent) =>
  String(agent.agent_id),
);

/** The agents promise 3 applies to (overlap_policy skip). */
export const SKIP_AGENT_IDS: readonly string[] = FAULT_FLEET.filter(
  (agent) => agent.overlap_policy === 'skip',
).map((agent) => String(agent.agent_id));

/**
 * True when every agent has completed a run whose last attempt started after `sinceMs` (on the
 * instance `workerId`, when given): the fleet as a whole is working again after a fault.
 */
export async function everyAgentCompletedSince(
  store: Store,
  sinceMs: number,
  workerId?: string,
): Promise<boolean> {
  for (const agentId of FLEET_AGENT_IDS) {
    const completed = await store.runs.list(agentId, { status: 'completed', limit: 20 });
    const fresh = completed.some((run) => {
      const last = run.attempts.at(-1);
      return (
        last !== undefined &&
        Date.parse(last.started_at) > sinceMs &&
        (workerId === undefined || last.worker_id === workerId)
      );
    });
    if (!fresh) return false;
  }
  return true;
}

/** What one store's fault run did and found, for its summary line. */
export class FaultTally {
  readonly faults = new Map<string, number>();
  readonly violations: Violation[] = [];
  rounds = 0;
  runsChecked = 0;
  readonly outcomes = new Map<RunStatus, number>();
  /** Runs a clean shutdown left unfinished, ended by the next manager's recovery. */
  leftForRecovery = 0;
  /** Whether the final dump holds `[redacted]`: the secret reached the records and was replaced. */
  redactionsSeen = false;
  readonly #began = Date.now();

  constructor(
    readonly store: string,
    readonly seed: number,
  ) {}

  fault(kind: string): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
  }

  /** Records what a check found; the last call's runs are the ones reported. */
  checked(runs: readonly RunRecord[], violations: readonly Violation[]): void {
    this.runsChecked = runs.length;
    this.outcomes.clear();
    for (const run of runs) this.outcomes.set(run.status, (this.outcomes.get(run.status) ?? 0) + 1);
    // Later rounds read the same records again: a broken promise is reported once.
    const known = new Set(this.violations.map((violation) => violation.detail));
    for (const violation of violations) {
      if (!known.has(violation.detail)) this.violations.push(violation);
      known.add(violation.detail);
    }
  }

  summary(): string {
    const faultCount = [...this.faults.values()].reduce((sum, count) => sum + count, 0);
    const faults = [...this.faults].map(([kind, count]) => `${count} ${kind}`).join(', ');
    const outcomes = [...this.outcomes]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]) => `${status} ${count}`)
      .join(', ');
    const seconds = ((Date.now() - this.#began) / 1000).toFixed(1);
    return (
      `fault-injection ${this.store}: seed=${this.seed}, rounds=${this.rounds}, ` +
      `faults=${faultCount} (${faults}), runs checked=${this.runsChecked} (${outcomes}), ` +
      `left for recovery after shutdown=${this.leftForRecovery}, ` +
      `violations=${this.violations.length}, wall=${seconds}s`
    );
  }
}
