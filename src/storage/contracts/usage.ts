/** Tokens and model requests used, summed over a run (never process-wide). */
export interface Usage {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  /** Input tokens read from the provider's prompt cache (part of `input_tokens`), when reported. */
  cached_input_tokens?: number;
  /** What the tokens cost in US dollars, when the model has a price (see `resolvePrice`). */
  cost_usd?: number;
}

/** A usage with every count at zero. */
export function emptyUsage(): Usage {
  return { requests: 0, input_tokens: 0, output_tokens: 0, total_tokens: 0 };
}

/** The sum of two usages. */
export function addUsage(a: Usage, b: Usage): Usage {
  const cached =
    a.cached_input_tokens === undefined && b.cached_input_tokens === undefined
      ? undefined
      : (a.cached_input_tokens ?? 0) + (b.cached_input_tokens ?? 0);
  const cost =
    a.cost_usd === undefined && b.cost_usd === undefined
      ? undefined
      : roundUsd((a.cost_usd ?? 0) + (b.cost_usd ?? 0));
  return {
    requests: a.requests + b.requests,
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
    ...(cached === undefined ? {} : { cached_input_tokens: cached }),
    ...(cost === undefined ? {} : { cost_usd: cost }),
  };
}

/** Dollars to the millionth (what costs are counted in), so sums do not drift. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
