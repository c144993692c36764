import { NightshiftError } from '../errors.js';
import { backoffDelayMs } from '../shared/backoff.js';
import { isTerminal, type AgentRecord, type RunRecord } from '../storage/contracts/index.js';
import { manualRunId } from './run-ids.js';
import { newRunRecord } from './run-records.js';
import type { ServiceContext } from './service-context.js';
import type { RunNowOptions } from './service-options.js';
import type { DeliveryOutcome, ManualRunRequest } from './tick-scheduler.js';

/** The first pause between two looks at a run `runNow({ wait: true })` waits for in another process. */
const RUN_WAIT_POLL_FIRST_MS = 20;

/** The longest such pause. */
const RUN_WAIT_POLL_MAX_MS = 250;

/**
 * Runs an agent now: the scheduler queues it for whichever worker takes it (distributed
 * schedulers), or this process runs it under the usual rules. Returns the run record at once,
 * or when it has ended with `wait`.
 */
export async function runNow(
  context: ServiceContext,
  agentId: string,
  options: RunNowOptions,
): Promise<RunRecord> {
  const agent = await context.require(agentId);
  const now = context.now();
  const request: ManualRunRequest = {
    agent_id: agentId,
    run_id: manualRunId(agentId, now),
    query: options.query ?? agent.definition.task_config.query,
    requested_at: now.toISOString(),
  };
  const scheduler = context.shuttingDown ? undefined : context.schedulerHandle();
  if (scheduler && (await scheduler.enqueueManual(request)) === 'queued')
    return queuedRun(context, agent, request, options);
  const dispatcher = context.requireDispatcher();
  const run = manualRun(context, request, now);
  const dispatched = await dispatcher.dispatch(agent, run);
  if (!dispatched) throw new NightshiftError('internal', `run ${run.run_id} was claimed twice`);
  if (!options.wait || isTerminal(dispatched.status)) return dispatched;
  return (await dispatcher.completion(run.run_id)) ?? dispatched;
}

/** A manual run delivered by a distributed scheduler: runs here under the usual rules, resolving at its end. */
export async function deliverManual(
  context: ServiceContext,
  request: ManualRunRequest,
): Promise<DeliveryOutcome> {
  const dispatcher = context.dispatcher;
  if (context.shuttingDown || !dispatcher) return 'declined';
  const { store } = await context.connect();
  const agent = await store.agents.get(request.agent_id);
  if (!agent) return 'handled';
  const run = manualRun(context, request);
  const dispatched = await dispatcher.dispatch(agent, run);
  if (!dispatched && context.shuttingDown) return 'declined';
  if (dispatched && !isTerminal(dispatched.status)) await dispatcher.completion(run.run_id);
  return 'handled';
}

/** The run record of a manual run request, held by this process. */
function manualRun(
  context: ServiceContext,
  request: ManualRunRequest,
  now = context.now(),
): RunRecord {
  return newRunRecord({
    runId: request.run_id,
    agentId: request.agent_id,
    trigger: 'manual',
    scheduledAt: new Date(request.requested_at),
    query: request.query,
    now,
    ...context.lease(),
  });
}

/**
 * A manual run a distributed scheduler queued: any worker takes it (this process too, if it is
 * one). The record returned is built from the request and not stored: the worker that takes
 * the run claims it. With `wait`, follows the store until the run has ended.
 */
async function queuedRun(
  context: ServiceContext,
  agent: AgentRecord,
  request: ManualRunRequest,
  options: RunNowOptions,
): Promise<RunRecord> {
  const pending: RunRecord = {
    ...manualRun(context, request, new Date(request.requested_at)),
    lease_owner: null,
    lease_expires_at: null,
  };
  if (!options.wait) return pending;
  const { store } = await context.connect();
  // Polling with a bounded interval: a run that ended in another process is seen within it.
  for (let attempt = 1; ; attempt += 1) {
    const run = await store.runs.get(request.run_id);
    if (run && isTerminal(run.status)) return run;
    if (!run && !(await store.agents.get(agent.agent_id))) throw context.notFound(agent.agent_id);
    const delayMs = backoffDelayMs(attempt, {
      firstMs: RUN_WAIT_POLL_FIRST_MS,
      maxMs: RUN_WAIT_POLL_MAX_MS,
    });
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
