import type { ReplaySource } from '../../agent/index.js';
import type { RunRecord, RunStep } from '../../storage/contracts/index.js';
import { resumeChain } from '../runs/resume-plan.js';

/**
 * What a replay answers from: the steps of the attempts that made the original's outcome (its
 * last attempt and those it resumed). Undefined for a run that is not a replay.
 */
export async function replaySourceOf(
  steps: {
    listSteps(runId: string): Promise<RunStep[]>;
    get(runId: string): Promise<RunRecord | undefined>;
  },
  run: RunRecord,
): Promise<ReplaySource | undefined> {
  if (!run.replay_of || !run.replay_mode) return undefined;
  const original = await steps.get(run.replay_of);
  const recorded = await steps.listSteps(run.replay_of);
  return {
    run_id: run.replay_of,
    mode: run.replay_mode,
    steps: outcomeChain(original, recorded),
  };
}

/** The steps of the attempts that made a run's outcome: its last attempt and those it resumed. */
export function outcomeChain(run: RunRecord | undefined, steps: readonly RunStep[]): RunStep[] {
  const last = Math.max(run?.attempts.length ?? 0, ...steps.map((step) => step.attempt));
  return resumeChain(steps, last + 1);
}
