import { isWaiting, type AgentRecord, type RunRecord } from '../storage/contracts/index.js';
import { approvalsSettled } from './approvals/approval-decisions.js';
import { lastStepBefore, resumeMarker, resumeStepId } from './runs/resume-plan.js';
import type { ServiceContext } from './service-context.js';

/**
 * Wakes the waiting runs that may go on now: one `awaiting_budget` once a grant raised the budget
 * that stopped it or its window reset; one `awaiting_approval` once every approval it waits for
 * is decided (by a person, or by its timeout, applied here when it is due). Each is taken up by a compare-and-set (one
 * process wakes it, once) and goes on from its journal in a new attempt, through the
 * dispatcher as a recovered run does (under `skip` and `queue_one`, after the agent's overlap
 * lease). A waiting run of a paused agent waits on; one of a stopped or deleted agent ends
 * `cancelled`. `unfinished`: the unfinished runs, when the caller has just listed them.
 */
export async function wakeWaitingRuns(
  context: ServiceContext,
  unfinished?: readonly RunRecord[],
): Promise<void> {
  const dispatcher = context.dispatcher;
  if (!dispatcher || context.shuttingDown) return;
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
    const woken = await transitions.wake(run);
    if (!woken) continue;
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
    context.background(dispatcher.resume(agent, woken), `waking ${run.run_id} (${run.status})`);
  }
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
