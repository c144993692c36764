import { setTimeout as sleep } from 'node:timers/promises';
import { NightshiftError } from '../../errors.js';
import { isTerminal, type RunRecord } from '../../storage/index.js';
import type { ApiClient } from '../api-client.js';
import type { CliContext } from '../cli-context.js';
import { describeRun } from '../describe-run.js';
import { selectedApi, type TargetSelection } from '../fleet-target.js';

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

/**
 * `nightshift agents run <agent_id>`: asks the server to run the agent now (under its limits,
 * retries and overlap policy) and prints the run; with `--wait`, once it has ended, with its
 * answer. Resolves to the exit code: 1 when the run ended other than `completed`.
 */
export async function agentRunCommand(
  agentId: string,
  options: AgentRunCommandOptions,
  context: CliContext,
): Promise<number> {
  const selected = selectedApi(options, context.env);
  if (!selected) {
    // A store read directly has no process running its agents to hand the run to.
    throw new NightshiftError(
      'config_invalid',
      'agents run asks a running Nightshift to run the agent: pass --url of its HTTP API (or set NIGHTSHIFT_URL)',
    );
  }
  const { api, redact } = selected;
  const say = (line: string) => context.out(redact(line));
  const dispatched = await api.runNow(
    agentId,
    options.query === undefined ? {} : { query: options.query },
  );
  const run = options.wait ? await runEnd(api, dispatched) : dispatched;
  if (options.json) {
    say(JSON.stringify(run, null, 2));
  } else {
    say(describeRun(run));
    if (run.output) {
      say('output:');
      for (const line of run.output.split('\n')) say(`  ${line}`);
    }
  }
  return isTerminal(run.status) && run.status !== 'completed' ? 1 : 0;
}

/**
 * The run once it has ended. Polled rather than held open with `wait: true`: a run may take
 * longer than an HTTP client or a proxy keeps a silent request open.
 */
async function runEnd(api: ApiClient, run: RunRecord): Promise<RunRecord> {
  let current: RunRecord = run;
  let delay = FIRST_POLL_MS;
  while (!isTerminal(current.status)) {
    await sleep(delay);
    delay = Math.min(delay * 2, LONGEST_POLL_MS);
    current = await api.getRun(run.run_id);
  }
  return current;
}
