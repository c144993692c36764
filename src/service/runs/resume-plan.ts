import type { AttemptRecord } from '../../storage/contracts/index.js';
import { emptyUsage, isWaiting, type RunStep, type Usage } from '../../storage/contracts/index.js';

/** The step id of the marker that says attempt `attempt` resumes the run (index 0 of the attempt). */
export function resumeStepId(attempt: number): string {
  return `${attempt}.0`;
}

/** The marker of an attempt that resumed the run, if it did. */
export function resumeMarker(steps: readonly RunStep[], attempt: number): RunStep | undefined {
  return steps.find((step) => step.kind === 'resume' && step.attempt === attempt);
}

/**
 * How many times the run was resumed so far after its process stopped (`task_config.max_resumes`
 * bounds these): a resume after a wait (for a budget, a person) does not count.
 */
export function resumeCount(steps: readonly RunStep[], attempts: readonly AttemptRecord[]): number {
  const waited = new Set(
    attempts.filter((entry) => isWaiting(entry.status)).map((entry) => entry.attempt),
  );
  return steps.filter((step) => step.kind === 'resume' && !waited.has(step.attempt - 1)).length;
}

/**
 * The steps a resuming attempt goes on from: those of the attempts before it back to the last
 * one that started from the beginning (a retry starts afresh; a resume continues its
 * predecessor). Resume markers are left out: they record no work.
 */
export function resumeChain(steps: readonly RunStep[], attempt: number): RunStep[] {
  let first = attempt - 1;
  while (first > 1 && resumeMarker(steps, first)) first -= 1;
  return steps.filter(
    (step) => step.kind !== 'resume' && step.attempt >= first && step.attempt < attempt,
  );
}

/** The last step recorded before `attempt` (what it resumes from), or null. */
export function lastStepBefore(steps: readonly RunStep[], attempt: number): string | null {
  const before = steps.filter((step) => step.kind !== 'resume' && step.attempt < attempt);
  return before.at(-1)?.step_id ?? null;
}

/**
 * What an attempt's model calls used, from the journal: every request it made (one recorded
 * `started` may have been billed) and the tokens of every reply it recorded. It is how a run
 * whose process died keeps what it spent.
 */
export function recordedUsage(steps: readonly RunStep[], attempt: number): Usage {
  const usage = emptyUsage();
  for (const step of steps) {
    if (step.kind !== 'model_call' || step.attempt !== attempt) continue;
    usage.requests += 1;
    usage.input_tokens += step.usage?.input_tokens ?? 0;
    usage.output_tokens += step.usage?.output_tokens ?? 0;
    usage.total_tokens += step.usage?.total_tokens ?? 0;
  }
  return usage;
}

/** The attempts that started the run from the beginning (the first, and each retry). */
export function freshAttempts(attempts: readonly AttemptRecord[]): number {
  return attempts.filter((attempt) => attempt.resumed_from === undefined).length;
}
