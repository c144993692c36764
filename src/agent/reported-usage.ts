import type { Usage } from '../storage/contracts/index.js';

/** More tokens than any model takes or gives in one call: a count above it is not believed. */
export const MAX_TOKENS_PER_CALL = 100_000_000;

/** Token counts as a provider reports them for one model call (any of them may be missing). */
export interface ReportedTokens {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  totalTokens: number | undefined;
  /** Input tokens read from the provider's prompt cache (part of the input). */
  cachedInputTokens?: number | undefined;
}

/**
 * One model call's usage from what the provider reported, never trusted blindly: a count that
 * is negative, fractional, not a number or absurdly large is clamped (to 0 … MAX_TOKENS_PER_CALL,
 * whole), and a total below its parts is raised to their sum, so counters never go negative and
 * limits keep working. `problems` says what was corrected, for a warning.
 */
export function readReportedUsage(reported: ReportedTokens): { usage: Usage; problems: string[] } {
  const problems: string[] = [];
  const clamp = (value: number | undefined, name: string): number | undefined => {
    if (value === undefined) return undefined;
    if (Number.isInteger(value) && value >= 0 && value <= MAX_TOKENS_PER_CALL) return value;
    const clamped = Number.isNaN(value)
      ? 0
      : Math.min(MAX_TOKENS_PER_CALL, Math.max(0, Math.round(value)));
    problems.push(`${name} ${String(value)} was counted as ${clamped}`);
    return clamped;
  };
  const input = clamp(reported.inputTokens, 'input tokens') ?? 0;
  const output = clamp(reported.outputTokens, 'output tokens') ?? 0;
  let total = clamp(reported.totalTokens, 'total tokens') ?? input + output;
  if (total < input + output) {
    problems.push(
      `total tokens ${total} was below input + output and was counted as ${input + output}`,
    );
    total = input + output;
  }
  const reportedCached = clamp(reported.cachedInputTokens, 'cached input tokens');
  const cached = reportedCached === undefined ? undefined : Math.min(reportedCached, input);
  return {
    usage: {
      requests: 1,
      input_tokens: input,
      output_tokens: output,
      total_tokens: total,
      // Reported only when some input came from the cache: most calls have none.
      ...(cached === undefined || cached === 0 ? {} : { cached_input_tokens: cached }),
    },
    problems,
  };
}
