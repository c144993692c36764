import { NightshiftError } from '../../../errors.js';

const HINTS: Record<string, string> = {
  '25006': 'sql_query is read-only; it cannot change data',
  '57014': 'the statement ran too long or was cancelled',
};

/** A database failure as a `tool_error` the model can act on: what failed, and the database's own words. */
export function sqlError(connection: string, action: string, error: unknown): NightshiftError {
  if (NightshiftError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const hint = typeof code === 'string' ? HINTS[code] : undefined;
  return new NightshiftError(
    'tool_error',
    `${action} on "${connection}" failed: ${message}${hint ? ` (${hint})` : ''}`,
    { cause: error, details: typeof code === 'string' ? { sql_state: code } : {} },
  );
}
