import type {
  LanguageModelV3CallOptions,
  LanguageModelV3Middleware,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';
import { NightshiftError, type BudgetErrorCode } from '../errors.js';
import type { BudgetStopInfo, Usage } from '../storage/contracts/index.js';

/** Output tokens a request may produce when a budget applies and `max_tokens` is not set. */
export const DEFAULT_BUDGETED_OUTPUT_TOKENS = 4_096;

/** What a model request about to be sent may cost at worst. */
export interface ModelCallEstimate {
  /** The run step of the request (`attempt.index`). */
  step_id: string;
  /** The prompt's tokens, estimated from its length (see {@link estimatePromptTokens}). */
  prompt_tokens: number;
  /** The most the reply may have: the request's `maxOutputTokens`. */
  max_output_tokens: number;
}

/** An amount held for one call: settled with what the call really used once it is over. */
export interface HeldBudget {
  /** `usage` of the reply; undefined when the call failed or did not run (nothing billed known). */
  settle(usage: Usage | undefined): Promise<void>;
}

/** Why a call was not made: the budget that would be crossed. */
export interface BudgetStop {
  code: BudgetErrorCode;
  message: string;
  /** Which budget, and what the call asked for: what a run waiting for it checks. */
  info?: BudgetStopInfo;
}

/**
 * The budgets a run's calls are held against, checked before each model request and each tool
 * call (the service builds it from the agent's, its tags' and the fleet's budgets). A hold that
 * does not fit returns the budget it would cross, and the call is not made.
 */
export interface RunBudget {
  holdModelCall(estimate: ModelCallEstimate): Promise<HeldBudget | BudgetStop>;
  holdToolCall(stepId: string, toolName: string): Promise<HeldBudget | BudgetStop>;
}

/** True for the answer of a hold that did not fit. */
export function isBudgetStop(value: HeldBudget | BudgetStop): value is BudgetStop {
  return 'code' in value;
}

/** The error a run is stopped with when a budget would be crossed. */
export function budgetStopError(stop: BudgetStop): NightshiftError {
  return new NightshiftError(
    stop.code,
    stop.message,
    stop.info ? { details: { budget: stop.info } } : {},
  );
}

/** The budget a {@link budgetStopError} names, if it says. */
export function budgetStopInfoOf(error: NightshiftError): BudgetStopInfo | undefined {
  return error.details.budget as BudgetStopInfo | undefined;
}

/** True for the error {@link budgetStopError} makes. */
export function isBudgetStopError(error: unknown): error is NightshiftError {
  return NightshiftError.isInstance(error) && error.code.startsWith('budget.');
}

/**
 * A prompt's tokens, estimated on the safe side without a tokenizer: a token per three
 * characters of the prompt and tool schemas as JSON (English runs about four per token, and the
 * JSON adds characters the provider does not count), so a hold is not smaller than the request.
 */
export function estimatePromptTokens(params: LanguageModelV3CallOptions): number {
  const prompt = JSON.stringify(params.prompt) ?? '';
  const tools = JSON.stringify(params.tools ?? []) ?? '';
  return Math.ceil((prompt.length + tools.length) / 3);
}

/**
 * The middleware that holds each live request's worst case before it is sent, and settles it
 * once it is over. It sits inside the journal's middleware, so a call the journal answers holds
 * nothing. `stop` ends the run (with the budget's code) when a hold does not fit; the request is
 * never sent.
 */
export function budgetMiddleware(
  budget: RunBudget,
  stepId: () => string | undefined,
  stop: (stopped: BudgetStop) => Promise<never>,
  usageOf: (reported: LanguageModelV3Usage) => Usage,
): LanguageModelV3Middleware {
  return {
    specificationVersion: 'v3',
    wrapGenerate: async ({ doGenerate, params }) => {
      const held = await budget.holdModelCall({
        step_id: stepId() ?? 'unknown',
        prompt_tokens: estimatePromptTokens(params),
        max_output_tokens: params.maxOutputTokens ?? DEFAULT_BUDGETED_OUTPUT_TOKENS,
      });
      if (isBudgetStop(held)) return stop(held);
      let result;
      try {
        result = await doGenerate();
      } catch (error) {
        await held.settle(undefined);
        throw error;
      }
      await held.settle(usageOf(result.usage));
      return result;
    },
  };
}
