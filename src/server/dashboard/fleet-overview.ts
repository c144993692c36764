import { NightshiftError } from '../../errors.js';
import type { AgentStatus } from '../../service/index.js';
import {
  isErrorStatus,
  isTerminal,
  roundUsd,
  type ListRunsOptions,
  type RunRecord,
  type RunStatus,
} from '../../storage/index.js';
import type { FailureBucket, FleetOverview, RunBucket } from './fleet-overview-types.js';

/** What the overview reads: the service's public methods. */
export interface OverviewReader {
  listAgents(): Promise<AgentStatus[]>;
  listRuns(agentId: string, options?: ListRunsOptions): Promise<RunRecord[]>;
}

/** Options of {@link buildFleetOverview}. */
export interface FleetOverviewOptions {
  /** The chart's window, in hours back from now. */
  hours: number;
  /** Where "today" starts for the usage sums (the viewer's midnight). */
  dayStart: Date;
  now: Date;
}

/**
 * Run records read in all for one overview, whatever the size of the fleet (past 2,000 agents
 * that ran in the window, the per-agent minimum below decides instead).
 */
export const OVERVIEW_RUN_BUDGET = 20_000;
/** Every agent that ran in the window gets at least this many of its newest runs read. */
const MIN_RUNS_PER_AGENT = 10;
/** And at most this many (the API's own cap on one page of runs). */
const MAX_RUNS_PER_AGENT = 1000;
/** Agents whose runs are read at once (a remote store answers many small queries in parallel). */
const READ_CONCURRENCY = 8;
/** Bars of the runs chart, about: the bucket grows with the window to keep it readable. */
const TARGET_BUCKETS = 180;
/** Names shown in lists (invalid agents, agents running): a fleet of 1,000 shows the first ones. */
const LISTED = 20;
const RECENT_FAILURES = 10;
const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Minutes per bar for a window of `hours`: 1 up to 3 hours, then growing. */
function bucketMinutesFor(hours: number): number {
  return Math.max(1, Math.ceil((hours * 60) / TARGET_BUCKETS));
}

interface AgentRuns {
  agent: AgentStatus;
  runs: RunRecord[];
  limit: number;
}

/**
 * The fleet overview: agents by state from `listAgents`, runs per bucket by status, failures
 * and today's usage and spend from the newest runs of the agents that ran in the window. Agents that did
 * not run since the window began are not read; the others share {@link OVERVIEW_RUN_BUDGET}
 * (a second pass gives what is left to agents that had more), so the work is bounded however
 * large the fleet; `coverage.complete_since` says from when the counts are whole.
 */
export async function buildFleetOverview(
  reader: OverviewReader,
  options: FleetOverviewOptions,
): Promise<FleetOverview> {
  const now = options.now.getTime();
  const bucketMinutes = bucketMinutesFor(options.hours);
  const bucketMs = bucketMinutes * MINUTE;
  const bucketCount = Math.ceil((options.hours * 60) / bucketMinutes);
  const lastBucket = Math.floor(now / bucketMs) * bucketMs;
  const windowStart = lastBucket - (bucketCount - 1) * bucketMs;
  const dayStart = options.dayStart.getTime();
  const readFrom = Math.min(windowStart, dayStart);

  const agents = await reader.listAgents();
  const candidates = agents.filter(
    (agent) =>
      agent.running_runs > 0 ||
      (agent.last_run_at !== null && Date.parse(agent.last_run_at) >= readFrom),
  );
  const read = await readRuns(reader, candidates, readFrom);

  const endOf = (run: RunRecord) => Date.parse(run.ended_at ?? run.scheduled_at);
  const ended = read.flatMap(({ runs }) =>
    runs.filter((run) => isTerminal(run.status) && endOf(run) >= readFrom),
  );
  let completeSince: number | null = null;
  for (const { runs, limit } of read) {
    const oldest = runs.at(-1);
    if (runs.length < limit || !oldest || endOf(oldest) < readFrom) continue;
    completeSince = Math.max(completeSince ?? 0, endOf(oldest));
  }

  const buckets: RunBucket[] = Array.from({ length: bucketCount }, (_, index) => ({
    start: new Date(windowStart + index * bucketMs).toISOString(),
    counts: {},
  }));
  const hourStart = Math.floor(windowStart / HOUR) * HOUR;
  const failuresByHour: FailureBucket[] = [];
  for (let start = hourStart; start <= now; start += HOUR) {
    failuresByHour.push({
      start: new Date(Math.max(start, windowStart)).toISOString(),
      end: new Date(Math.min(start + HOUR, now)).toISOString(),
      count: 0,
    });
  }
  const totals: Partial<Record<RunStatus, number>> = {};
  const failures: RunRecord[] = [];
  const usage = {
    runs: 0,
    requests: 0,
    input_tokens: 0,
    output_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
  };
  for (const run of ended) {
    const at = endOf(run);
    if (at >= dayStart && at <= now) {
      usage.runs += 1;
      usage.requests += run.usage.requests;
      usage.input_tokens += run.usage.input_tokens;
      usage.output_tokens += run.usage.output_tokens;
      usage.total_tokens += run.usage.total_tokens;
      usage.cost_usd = roundUsd(usage.cost_usd + (run.usage.cost_usd ?? 0));
    }
    if (at < windowStart || at > now) continue;
    const bucket = buckets[Math.floor((at - windowStart) / bucketMs)];
    if (bucket) bucket.counts[run.status] = (bucket.counts[run.status] ?? 0) + 1;
    totals[run.status] = (totals[run.status] ?? 0) + 1;
    if (isErrorStatus(run.status)) {
      failures.push(run);
      const hour = failuresByHour[Math.floor(at / HOUR) - hourStart / HOUR];
      if (hour) hour.count += 1;
    }
  }
  failures.sort((left, right) => endOf(right) - endOf(left));

  const byState: Record<AgentStatus['state'], number> = {
    active: 0,
    paused: 0,
    stopped: 0,
    created: 0,
    invalid: 0,
  };
  for (const agent of agents) byState[agent.state] += 1;
  const running = agents
    .filter((agent) => agent.running_runs > 0)
    .sort((left, right) => right.running_runs - left.running_runs);

  return {
    generated_at: options.now.toISOString(),
    window: {
      start: new Date(windowStart).toISOString(),
      end: options.now.toISOString(),
      hours: options.hours,
      bucket_minutes: bucketMinutes,
    },
    agents: {
      total: agents.length,
      by_state: byState,
      invalid: agents
        .filter((agent) => agent.state === 'invalid')
        .slice(0, LISTED)
        .map((agent) => ({
          agent_id: agent.agent_id,
          invalid_reason: agent.invalid_reason ?? 'the stored definition cannot run',
        })),
    },
    in_flight: {
      runs: running.reduce((sum, agent) => sum + agent.running_runs, 0),
      agents: running
        .slice(0, LISTED)
        .map((agent) => ({ agent_id: agent.agent_id, running_runs: agent.running_runs })),
    },
    runs: {
      buckets,
      totals,
      failures: failures.length,
      failures_by_hour: failuresByHour,
      recent_failures: failures.slice(0, RECENT_FAILURES).map((run) => ({
        run_id: run.run_id,
        agent_id: run.agent_id,
        status: run.status,
        ended_at: new Date(endOf(run)).toISOString(),
        error: run.error,
      })),
    },
    usage_today: {
      since: options.dayStart.toISOString(),
      ...usage,
      complete: completeSince === null || completeSince <= dayStart,
    },
    coverage: {
      agents_read: read.length,
      runs_read: read.reduce((sum, { runs }) => sum + runs.length, 0),
      complete_since: completeSince === null ? null : new Date(completeSince).toISOString(),
    },
  };
}

/**
 * The newest runs of each candidate: an even share of the budget first, then what is left to
 * the agents whose share did not reach back to `readFrom`.
 */
async function readRuns(
  reader: OverviewReader,
  candidates: readonly AgentStatus[],
  readFrom: number,
): Promise<AgentRuns[]> {
  const share = Math.floor(OVERVIEW_RUN_BUDGET / Math.max(1, candidates.length));
  const limit = Math.min(MAX_RUNS_PER_AGENT, Math.max(MIN_RUNS_PER_AGENT, share));
  const first = await mapLimited(candidates, (agent) => readAgentRuns(reader, agent, limit));
  const read = first.filter((entry): entry is AgentRuns => entry !== undefined);
  const shortOf = (entry: AgentRuns) => {
    const oldest = entry.runs.at(-1);
    return (
      entry.runs.length === entry.limit &&
      oldest !== undefined &&
      Date.parse(oldest.ended_at ?? oldest.scheduled_at) >= readFrom
    );
  };
  const truncated = read.filter(shortOf);
  const used = read.reduce((sum, { runs }) => sum + runs.length, 0);
  const more = Math.min(
    MAX_RUNS_PER_AGENT,
    limit + Math.floor((OVERVIEW_RUN_BUDGET - used) / Math.max(1, truncated.length)),
  );
  if (truncated.length === 0 || more <= limit) return read;
  const again = await mapLimited(truncated, ({ agent }) => readAgentRuns(reader, agent, more));
  const replaced = new Map(
    again
      .filter((entry): entry is AgentRuns => entry !== undefined)
      .map((entry) => [entry.agent.agent_id, entry]),
  );
  return read.map((entry) => replaced.get(entry.agent.agent_id) ?? entry);
}

async function readAgentRuns(
  reader: OverviewReader,
  agent: AgentStatus,
  limit: number,
): Promise<AgentRuns | undefined> {
  try {
    return { agent, runs: await reader.listRuns(agent.agent_id, { limit }), limit };
  } catch (error) {
    // Deleted since it was listed: it has nothing to show.
    if (NightshiftError.isInstance(error) && error.code === 'agent_not_found') return undefined;
    throw error;
  }
}

/** `work` over every item, at most {@link READ_CONCURRENCY} at a time, results in order. */
async function mapLimited<Item, Result>(
  items: readonly Item[],
  work: (item: Item) => Promise<Result>,
): Promise<Result[]> {
  const results: Result[] = new Array<Result>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as Item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, items.length) }, worker));
  return results;
}
