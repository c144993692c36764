import { isWaiting, type AgentRecord, type RunRecord } from '../storage/contracts/index.js';
import { approvalsSettled } from './approvals/approval-decisions.js';
import { lastStepBefore, resumeMarker, resumeStepId } from './runs/resume-plan.js';
import type { ServiceContext } from './service-context.js';
import type { DeliveryOutcome, ResumeRequest } from './tick-scheduler.js';

/**
 * Wakes the waiting runs that may go on now: one `awaiting_budget` once a grant raised the budget
 * that stopped it or its window reset; one `awaiting_approval` once every approval it waits for
 * is decided (by a person, or by its timeout, applied here when it is due). With a distributed
 * scheduler its next attempt is queued (once per run and attempt) for a worker with a free slot,
 * which wakes it ({@link deliverResume}); otherwise it is woken here. Waking is a
 * compare-and-set (one process wakes it, once); the run goes on from its journal in a new
 * attempt, through the dispatcher as a recovered run does (under `skip` and `queue_one`, after
 * the agent's overlap lease). A waiting run of a paused agent waits on; one of a stopped or deleted agent ends
 * `cancelled`. `unfinished`: the unfinished runs, when the caller has just listed them.
 */
export async function wakeWaitingRuns(
  context: ServiceContext,
  unfinished?: readonly RunRecord[],
): Promise<void> {
  if (!context.dispatcher || context.shuttingDown) return;
  const { store, transitions } = await context.connect();
  const waiting = (unfinished ?? (await store.runs.listUnfinished())).filter((run) =>
    isWaiting(run.status),
  );
  if (waiting.length === 0) return;
  const agents = new Map<string, AgentRecord | undefined>();
  for (const run of waiting) {
    if (context.shuttingDown) return;
    if (!agents.has(run.agent_id)) agents.set(run.agent_id, await store.agents.get(run.agent_id));
    const agent = agents.get(run.agent_id);
    if (!agent || agent.state === 'stopped') {
      const why = agent ? 'the agent was stopped' : 'the agent was deleted';
      await transitions.endWaiting(run, 'cancelled', { code: 'cancelled', message: why });
      continue;
    }
    if (agent.state === 'paused') continue;
    if (!(await mayGoOn(context, agent, run))) continue;
    // A distributed scheduler queues the next attempt for a worker with a free slot.
    const request = {
      agent_id: run.agent_id,
      run_id: run.run_id,
      attempt: run.attempts.length + 1,
    };
    const scheduler = context.schedulerHandle();
    if (scheduler && (await scheduler.enqueueResume(request)) === 'queued') continue;
    const resumed = await wakeHere(context, agent, run);
    if (resumed) context.background(resumed.started, `waking ${run.run_id} (${run.status})`);
  }
}

/**
 * A waiting run's next attempt, delivered by a distributed scheduler to this worker: woken here
 * if it still waits for that attempt and may go on; resolves once the attempt has ended, so the
 * job holds its worker slot meanwhile. `declined` while shutting down (the job goes back).
 */
export async function deliverResume(
  context: ServiceContext,
  request: ResumeRequest,
): Promise<DeliveryOutcome> {
  const dispatcher = context.dispatcher;
  if (context.shuttingDown || !dispatcher) return 'declined';
  const { store } = await context.connect();
  const run = await store.runs.get(request.run_id);
  // Woken already (by another worker, or a later sweep), ended, or waiting for a later attempt.
  if (!run || !isWaiting(run.status) || run.attempts.length + 1 !== request.attempt)
    return 'handled';
  const agent = await store.agents.get(run.agent_id);
  // A paused agent's run waits on; a stopped one's is ended by the next sweep.
  if (!agent || agent.state === 'paused' || agent.state === 'stopped') return 'handled';
  if (!(await mayGoOn(context, agent, run))) return 'handled';
  const resumed = await wakeHere(context, agent, run);
  if (!resumed) return 'handled';
  await resumed.started;
  await dispatcher.completion(run.run_id)?.catch(() => undefined);
  return 'handled';
}

/**
 * Wakes a waiting run in this process (a compare-and-set: once), marks its next attempt as
 * resuming, and hands it to the dispatcher; undefined when another process woke it first.
 */
async function wakeHere(
  context: ServiceContext,
  agent: AgentRecord,
  run: RunRecord,
): Promise<{ started: Promise<RunRecord> } | undefined> {
  const dispatcher = context.dispatcher;
  if (!dispatcher) return undefined;
  const { store, transitions } = await context.connect();
  const woken = await transitions.wake(run);
  if (!woken) return undefined;
  const steps = await store.runs.listSteps(run.run_id);
  const next = run.attempts.length + 1;
  if (!resumeMarker(steps, next)) {
    const at = context.now().toISOString();
    await store.runs.appendStep({
      run_id: run.run_id,
      step_id: resumeStepId(next),
      attempt: next,
      index: 0,
      kind: 'resume',
      state: 'completed',
      started_at: at,
      ended_at: at,
      resumed_from: lastStepBefore(steps, next),
    });
  }
  return { started: dispatcher.resume(agent, woken) };
}

/** Whether what a waiting run waits for has come: room in its budget, or every decision. */
async function mayGoOn(
  context: ServiceContext,
  agent: AgentRecord,
  run: RunRecord,
): Promise<boolean> {
  const { store } = await context.connect();
  if (run.status === 'awaiting_approval') return approvalsSettled(context, run);
  return context.budgets.roomFor(agent.definition, run.error?.budget, store.budgets);
}

/** Per service, a wake sweep under way, and whether another was asked for meanwhile. */
const sweeps = new WeakMap<ServiceContext, { again: boolean; done: Promise<void> }>();

/**
 * Asks for a wake sweep (a grant or a decision was announced): one at a time per service, and a
 * burst of announcements while one runs makes one more, not one each.
 */
export function requestWake(context: ServiceContext): Promise<void> {
  const running = sweeps.get(context);
  if (running) {
    running.again = true;
    return running.done;
  }
  const sweep = { again: false, done: Promise.resolve() };
  sweep.done = (async () => {
    try {
      do {
        sweep.again = false;
        await wakeWaitingRuns(context);
      } while (sweep.again && !context.shuttingDown);
    } finally {
      sweeps.delete(context);
    }
  })();
  sweeps.set(context, sweep);
  return sweep.done;
}
