/** Stable error codes: callers branch on these, never on message text. */
export type NightshiftErrorCode =
  | 'config_invalid'
  | 'agent_not_found'
  | 'agent_exists'
  | 'run_not_found'
  | 'invalid_state'
  | 'missing_api_key'
  | 'storage_unavailable'
  | 'limit_exceeded'
  | 'model_error'
  | 'tool_error'
  | 'timeout'
  | 'cancelled'
  | 'shutting_down'
  | 'internal';

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
