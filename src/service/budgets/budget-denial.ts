import { z } from 'zod';
import { describeFields, issuesToFieldErrors } from '../../config/format-issues.js';
import { NightshiftError } from '../../errors.js';
import type { RunRecord } from '../../storage/contracts/index.js';
import type { ServiceContext } from '../service-context.js';
import { afterRun } from '../tick-delivery.js';
/** What a person says when they refuse a waiting run more budget. */
export const budgetDenialInputSchema = z.strictObject({
  by: z
    .string({ error: 'required: who denies it' })
    .trim()
    .min(1, { error: 'required: who denies it' })
    .max(200),
  note: z.string({ error: 'required: why' }).trim().min(1, { error: 'required: why' }).max(2_000),
});

/** Who refuses a run waiting for a budget, and why. */
export type BudgetDenialInput = z.input<typeof budgetDenialInputSchema>;

/**
 * A person refuses a waiting run more budget: it ends `budget_exceeded` with the error it waited
 * on, saying who denied it and why. `run_not_found`, or `invalid_state` when the run is not
 * waiting (it was woken, denied or ended meanwhile: the second of two decisions finds it so).
 */
export async function denyBudget(
  context: ServiceContext,
  runId: string,
  input: unknown,
): Promise<RunRecord> {
  const parsed = budgetDenialInputSchema.safeParse(input);
  if (!parsed.success) {
    const fields = issuesToFieldErrors(parsed.error.issues, [], budgetDenialInputSchema);
    throw new NightshiftError(
      'config_invalid',
      `invalid budget denial: ${describeFields(fields)}`,
      {
        fields,
      },
    );
  }
  const { store, transitions } = await context.connect();
  const run = await store.runs.get(runId);
  if (!run) throw new NightshiftError('run_not_found', `no run ${runId}`);
  const notWaiting = (status: string) =>
    new NightshiftError(
      'invalid_state',
      `run ${runId} is not waiting for a budget (it is ${status}); nothing to deny`,
    );
  if (run.status !== 'awaiting_budget' || !run.error) throw notWaiting(run.status);
  const { by, note } = parsed.data;
  const ended = await transitions.endWaiting(run, 'budget_exceeded', {
    ...run.error,
    message: `${run.error.message}; more budget denied by ${by}: ${note}`,
  });
  // Woken, denied or ended by another process meanwhile: the record says which.
  if (!ended) throw notWaiting((await store.runs.get(runId))?.status ?? 'gone');
  await afterRun(context, run.agent_id, ended.run, ended.agent);
  return ended.run;
}
