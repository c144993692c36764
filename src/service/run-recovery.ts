import {
  addUsage,
  isWaiting,
  type AgentRecord,
  type AttemptRecord,
  type ErrorInfo,
  type RunRecord,
  type RunStep,
} from '../storage/contracts/index.js';
import {
  lastStepBefore,
  recordedUsage,
  resumeCount,
  resumeMarker,
  resumeStepId,
} from './runs/resume-plan.js';
import { ownerKnownDead } from '../shared/process-liveness.js';
import { wakeWaitingRuns } from './waiting-runs.js';
import type { ServiceContext } from './service-context.js';

/**
 * Runs whose lease expired (their process died), or whose process is known dead (it lived on
 * this machine and its pid is gone: `ownerKnownDead`), are taken over — a compare-and-set on their
 * lease, so one process recovers each, once — and, by `task_config.on_interrupt`, go on from
 * their journal in a new attempt (`resume`, the default, up to `max_resumes`), start again as a
 * retry when retries remain (`restart`), or end `interrupted` (`fail`, or no way on). The dead
 * attempt keeps the usage its journal recorded.
 */
export async function recoverRuns(context: ServiceContext): Promise<void> {
  const { store, transitions } = await context.connect();
  const now = context.now();
  const unfinished = await store.runs.listUnfinished();
  for (const run of unfinished) {
    // Held by no process on purpose: a grant or the window's reset wakes it (below).
    if (isWaiting(run.status)) continue;
    // A process of this machine that is gone is dead for sure: no need to wait for its lease.
    const ownerDead = ownerKnownDead(run.lease_owner);
    if (!ownerDead && run.lease_expires_at && new Date(run.lease_expires_at) > now) continue;
    if (context.dispatcher?.completion(run.run_id)) continue;
    const taken = await transitions.takeOver(run, ownerDead);
    if (!taken) continue;
    const { agent } = taken;
    const steps = run.started_at ? await store.runs.listSteps(run.run_id) : [];
    // What the dead attempt still held is released, settled to what its journal shows it spent.
    if (run.started_at)
      await context.budgets.releaseRun(run.run_id, steps, store.budgets, agent?.definition);
    const attempt = run.attempts.length + 1;
    const dead = run.started_at ? deadAttempt(run, attempt, steps, now) : undefined;
    const attempts = dead ? [...run.attempts, dead] : run.attempts;
    const usage = dead ? addUsage(run.usage, dead.usage) : run.usage;
    const way = wayOn(agent, run, attempts, steps);
    const dispatcher = context.dispatcher;
    if (way.kind !== 'end' && agent && dispatcher) {
      const error = interruptedError();
      // A recovery that died between its marker and its retry left the marker: it stands.
      if (way.kind === 'resume' && !resumeMarker(steps, attempt + 1)) {
        const next = attempt + 1;
        await store.runs.appendStep({
          run_id: run.run_id,
          step_id: resumeStepId(next),
          attempt: next,
          index: 0,
          kind: 'resume',
          state: 'completed',
          started_at: now.toISOString(),
          ended_at: now.toISOString(),
          resumed_from: lastStepBefore(steps, next),
        });
      }
      await transitions.attemptFailed(run, {
        error,
        attempt,
        willRetry: true,
        status: 'interrupted',
      });
      const resumed = await transitions.retry(run.run_id, attempts, usage);
      if (resumed) {
        context.background(
          dispatcher.resume(agent, resumed),
          `${way.kind === 'resume' ? 'resuming' : 'retrying'} ${run.run_id}`,
        );
      }
      continue;
    }
    const error = way.kind === 'end' ? way.error : interruptedError();
    await transitions.interrupt(taken.run, { error, attempt }, attempts, usage);
  }
  await wakeWaitingRuns(context, unfinished);
}

/** What recovery does with a run it took over. */
type WayOn = { kind: 'resume' } | { kind: 'restart' } | { kind: 'end'; error: ErrorInfo };

function wayOn(
  agent: AgentRecord | undefined,
  run: RunRecord,
  attempts: readonly AttemptRecord[],
  steps: readonly RunStep[],
): WayOn {
  const end: WayOn = { kind: 'end', error: interruptedError() };
  if (!agent || agent.state === 'stopped' || run.started_at === null) return end;
  const task = agent.definition.task_config;
  if (task.on_interrupt === 'fail') return end;
  if (task.on_interrupt === 'restart') {
    const retries = attempts.filter((entry) => entry.resumed_from === undefined).length;
    if (retries > task.max_retries) return end;
    // Starting again would run again a tool that may have taken effect (promise 9).
    const sideEffects = steps.some((step) => step.kind === 'tool_call' && step.idempotent !== true);
    if (sideEffects && !task.retry_side_effects) {
      return {
        kind: 'end',
        error: {
          ...interruptedError(),
          message: `${interruptedError().message} (not restarted: a tool that is not idempotent had started; set task_config.retry_side_effects to restart anyway, or on_interrupt: resume)`,
          retry_blocked: 'side_effects',
        },
      };
    }
    return { kind: 'restart' };
  }
  const resumes = resumeCount(steps, attempts);
  if (resumes < task.max_resumes) return { kind: 'resume' };
  return {
    kind: 'end',
    error: {
      code: 'resume_limit',
      message: `the process running it stopped before it finished, and the run was resumed ${resumes} times already (task_config.max_resumes ${task.max_resumes})`,
    },
  };
}

function interruptedError(): ErrorInfo {
  return {
    code: 'interrupted',
    message: 'the process running it stopped before it finished (its lease expired)',
  };
}

/** The attempt a dead process left running, as recovery records it: with what its journal recorded. */
function deadAttempt(
  run: RunRecord,
  attempt: number,
  steps: readonly RunStep[],
  now: Date,
): AttemptRecord {
  const marker = resumeMarker(steps, attempt);
  // Its first work: a resume marker is written before the attempt waits for its turn.
  const started = steps.find(
    (step) => step.attempt === attempt && step.kind !== 'resume',
  )?.started_at;
  return {
    attempt,
    started_at: started ?? run.started_at ?? run.created_at,
    ended_at: now.toISOString(),
    status: 'interrupted',
    error: interruptedError(),
    usage: recordedUsage(steps, attempt),
    ...(run.lease_owner ? { worker_id: run.lease_owner } : {}),
    ...(marker ? { resumed_from: marker.resumed_from ?? null } : {}),
  };
}
