import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { NightshiftError } from '../../errors.js';
import { backoffDelayMs } from '../../shared/backoff.js';
import { parseInstanceId, processAnswers } from '../../shared/process-liveness.js';
import { isTerminal, type RunRecord } from '../../storage/index.js';
import type { ApiClient } from '../api-client.js';
import type { CliContext } from '../cli-context.js';
import { describeRun } from '../describe-run.js';
import { requireSelectedApi, type TargetSelection } from '../fleet-target.js';

/** Options of `nightshift agents run`. */
export interface AgentRunCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  json?: boolean;
  /** Print the run once it has ended, rather than as soon as it is dispatched. */
  wait?: boolean;
  /** Replaces the agent's `task_config.query` for this run. */
  query?: string;
}

/** The first look at a run being waited for comes this soon; later ones back off to the cap. */
const FIRST_POLL_MS = 100;
const LONGEST_POLL_MS = 1000;

/** How long a queued run may wait for a worker before the command says that none has taken it. */
const UNCLAIMED_NOTICE_MS = 10_000;

/** How many of an agent's newest runs are read to find the process that runs it. */
const RUNS_TO_LOOK_AT = 20;

/**
 * `nightshift agents run <agent_id>`: asks the server to run the agent now (under its limits,
 * retries and overlap policy) and prints the run; with `--wait`, once it has ended, with its
 * answer. Resolves to the exit code: 1 when the run ended other than `completed`.
 *
 * Where the run happens is the server's: a `nightshift run` runs it in its own process; a
 * server over a BullMQ fleet (`nightshift serve` with `scheduler: { kind: bullmq }`) queues it
 * for whichever worker takes it. A `nightshift serve` on the local scheduler runs no agents:
 * that is an `invalid_state` error saying which process runs them, as far as the store knows.
 */
export async function agentRunCommand(
  agentId: string,
  options: AgentRunCommandOptions,
  context: CliContext,
): Promise<number> {
  // A store read directly has no process running its agents to hand the run to.
  const { api, redact, say } = requireSelectedApi(
    options,
    context,
    'agents run asks a running Nightshift to run the agent',
  );
  let dispatched: RunRecord;
  try {
    dispatched = await api.runNow(agentId, { query: options.query });
  } catch (error) {
    throw await runsNoAgents(error, api, agentId);
  }
  const run = options.wait
    ? await runEnd(api, dispatched, (line) => context.err(redact(line)))
    : dispatched;
  if (options.json) {
    say(JSON.stringify(run, null, 2));
  } else {
    say(queued(run) ? `${describeRun(run)} (queued for the fleet's workers)` : describeRun(run));
    if (run.output) {
      say('output:');
      for (const line of run.output.split('\n')) say(`  ${line}`);
    }
  }
  return isTerminal(run.status) && run.status !== 'completed' ? 1 : 0;
}

/**
 * A run a distributed scheduler has queued: pending, held by no process yet (the worker that
 * takes it stores the record).
 */
function queued(run: RunRecord): boolean {
  return run.status === 'pending' && run.lease_owner === null;
}

/**
 * The run once it has ended. Polled rather than held open with `wait: true`: a run may take
 * longer than an HTTP client or a proxy keeps a silent request open. A queued run has no record
 * until a worker takes it; if none has after a while, `notice` says so once, and waiting goes on.
 */
async function runEnd(
  api: ApiClient,
  run: RunRecord,
  notice: (line: string) => void,
): Promise<RunRecord> {
  let current: RunRecord = run;
  let polls = 0;
  const since = Date.now();
  let noticed = false;
  while (!isTerminal(current.status)) {
    polls += 1;
    await sleep(backoffDelayMs(polls, { firstMs: FIRST_POLL_MS, maxMs: LONGEST_POLL_MS }));
    try {
      current = await api.getRun(run.run_id);
    } catch (error) {
      const unclaimed =
        queued(run) && NightshiftError.isInstance(error) && error.code === 'run_not_found';
      if (!unclaimed) throw error;
      if (!noticed && Date.now() - since > UNCLAIMED_NOTICE_MS) {
        noticed = true;
        notice(
          `waiting: no worker has taken ${run.run_id} yet (is a nightshift worker running on this fleet's queue?)`,
        );
      }
    }
  }
  return current;
}

/**
 * The error to tell when the server refused to run the agent because no agent runs in its
 * process (`invalid_state`, HTTP 409, as `POST /api/agents/{id}/run` documents): which process
 * does run them, when the agent's runs name one, and how to get a run now. Any other error is
 * returned as it is.
 */
async function runsNoAgents(error: unknown, api: ApiClient, agentId: string): Promise<unknown> {
  const refusedHere =
    NightshiftError.isInstance(error) &&
    error.code === 'invalid_state' &&
    error.details.status === 409;
  if (!refusedHere) return error;
  const runner = await lastRunner(api, agentId);
  const where =
    runner === undefined
      ? `no run of ${agentId} is recorded yet to say which one`
      : `${agentId} last ran in ${describeRunner(runner)}`;
  return new NightshiftError(
    'invalid_state',
    `${api.url} serves the store and runs no agents (nightshift serve on the local scheduler), so it cannot run ${agentId} now; agents run in a nightshift run process: ${where}. Ask that process instead (nightshift agents run ${agentId} --url <its API>; nightshift run serves one with a server block or --port), or schedule with BullMQ (scheduler: { kind: bullmq }) so that any server queues runs for the workers`,
    {
      cause: error,
      details: {
        ...error.details,
        reason: 'runs_no_agents',
        agent_id: agentId,
        ...(runner ? { runner } : {}),
      },
    },
  );
}

/** The process that ran an agent last, from its run records' leases and attempts. */
interface Runner {
  instance_id: string;
  host?: string;
  pid?: number;
  /** On this machine: whether that pid still answers. Undefined when it cannot be told. */
  alive?: boolean;
}

async function lastRunner(api: ApiClient, agentId: string): Promise<Runner | undefined> {
  // A lookup to say more: when it fails, the refusal is told without it.
  const runs = await api.listRuns(agentId, { limit: RUNS_TO_LOOK_AT }).catch(() => []);
  for (const run of runs) {
    const instanceId = run.lease_owner ?? run.attempts.at(-1)?.worker_id;
    if (instanceId) return runnerOf(instanceId);
  }
  return undefined;
}

/** Reads a default instance id (`host:pid:suffix`, the service's `instanceId`). */
function runnerOf(instanceId: string): Runner {
  const parts = parseInstanceId(instanceId);
  if (!parts) return { instance_id: instanceId };
  const { host, pid } = parts;
  return {
    instance_id: instanceId,
    host,
    pid,
    ...(host === hostname() ? { alive: processAnswers(pid) } : {}),
  };
}

function describeRunner(runner: Runner): string {
  if (runner.pid === undefined) return `the process ${runner.instance_id}`;
  if (runner.alive === undefined) return `pid ${runner.pid} on ${runner.host ?? '?'}`;
  return runner.alive
    ? `pid ${runner.pid} on this machine, which is running`
    : `pid ${runner.pid} on this machine, which has exited (start one with nightshift run <file>)`;
}
