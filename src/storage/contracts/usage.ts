/** Tokens and model requests used, summed over a run (never process-wide). */
export interface Usage {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

/** A usage with every count at zero. */
export function emptyUsage(): Usage {
  return { requests: 0, input_tokens: 0, output_tokens: 0, total_tokens: 0 };
}

/** The sum of two usages. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    requests: a.requests + b.requests,
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
}
