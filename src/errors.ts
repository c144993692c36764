/** What a budget caps, as a definition names it. */
export const BUDGET_DIMENSION_NAMES = ['usd', 'tokens', 'requests', 'tool_calls'] as const;
/** Budget windows an agent, a tag or the fleet may have beside one run's. */
export const BUDGET_WINDOWS = ['per_day', 'per_month'] as const;
/** Who a budget belongs to. */
export const BUDGET_SCOPES = ['agent', 'tag', 'fleet'] as const;

/** The code of a run stopped by a budget: `budget.run.usd`, `budget.agent.per_day.usd`, … */
export type BudgetErrorCode =
  | `budget.run.${(typeof BUDGET_DIMENSION_NAMES)[number]}`
  | `budget.${(typeof BUDGET_SCOPES)[number]}.${(typeof BUDGET_WINDOWS)[number]}.${(typeof BUDGET_DIMENSION_NAMES)[number]}`;

/** Every {@link BudgetErrorCode}. */
export const BUDGET_ERROR_CODES: readonly BudgetErrorCode[] = [
  ...BUDGET_DIMENSION_NAMES.map((dimension) => `budget.run.${dimension}` as const),
  ...BUDGET_SCOPES.flatMap((scope) =>
    BUDGET_WINDOWS.flatMap((window) =>
      BUDGET_DIMENSION_NAMES.map((dimension) => `budget.${scope}.${window}.${dimension}` as const),
    ),
  ),
];

/**
 * The stable error codes besides the budgets': callers branch on these, never on message text.
 * The first group is thrown as {@link NightshiftError}; the second is what a run record's
 * `error.code` carries besides those (a limit's own name, or how the run ended).
 */
const BASE_ERROR_CODES = [
  'config_invalid',
  'agent_not_found',
  'agent_exists',
  'run_not_found',
  'approval_not_found',
  'invalid_state',
  'missing_api_key',
  'storage_unavailable',
  'limit_exceeded',
  'model_error',
  'tool_error',
  'timeout',
  'cancelled',
  'shutting_down',
  'internal',
  // Run outcomes: the limit that stopped the run, or why it ended without an answer.
  'max_steps',
  'request_limit',
  'total_tokens_limit',
  'no_answer',
  'output_invalid',
  'interrupted',
  'resume_limit',
  'approval_required',
  // A check of agent_config.guardrails blocked what reached or left the model.
  'guardrail',
  'replay_diverged',
  'storage_error',
  'run_error',
  'unknown',
] as const;

/**
 * Every stable error code: the service's, the run outcomes (a limit's own name, or how the run
 * ended) and the budgets' (`budget.<scope>.<window>.<dimension>`).
 */
export const ERROR_CODES: readonly [
  (typeof BASE_ERROR_CODES)[number],
  ...((typeof BASE_ERROR_CODES)[number] | BudgetErrorCode)[],
] = [...BASE_ERROR_CODES, ...BUDGET_ERROR_CODES];

/** A stable error code (see {@link ERROR_CODES}). */
export type NightshiftErrorCode = (typeof ERROR_CODES)[number];

/** True when `value` is one of {@link ERROR_CODES} (a code read from an HTTP body, a stored record). */
export function isNightshiftErrorCode(value: unknown): value is NightshiftErrorCode {
  return (ERROR_CODES as readonly unknown[]).includes(value);
}

/** One field that failed validation, named by its path (`agents[0].interval`). */
export interface FieldError {
  path: string;
  message: string;
}

/** Options accepted by {@link NightshiftError}. */
export interface NightshiftErrorOptions {
  fields?: FieldError[];
  cause?: unknown;
  details?: Record<string, unknown>;
}

const marker = Symbol.for('nightshift.error');

/** The one error family of Nightshift: a stable `code`, structured fields and a `cause`. */
export class NightshiftError extends Error {
  readonly code: NightshiftErrorCode;
  readonly fields: FieldError[];
  readonly details: Record<string, unknown>;
  readonly [marker] = true;

  constructor(code: NightshiftErrorCode, message: string, options: NightshiftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NightshiftError';
    this.code = code;
    this.fields = options.fields ?? [];
    this.details = options.details ?? {};
  }

  /** True for any NightshiftError, also one from another copy of the package. */
  static isInstance(value: unknown): value is NightshiftError {
    return typeof value === 'object' && value !== null && marker in value;
  }

  /** The plain `{ code, message, fields? }` form used in events, run records and HTTP bodies. */
  toJSON(): { code: NightshiftErrorCode; message: string; fields?: FieldError[] } {
    return this.fields.length > 0
      ? { code: this.code, message: this.message, fields: this.fields }
      : { code: this.code, message: this.message };
  }
}

/** A short, human-readable message for anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
