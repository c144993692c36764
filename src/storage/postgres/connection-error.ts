import { errorMessage, NightshiftError } from '../../errors.js';
import { isPgDatabaseError } from '../../shared/pg-driver.js';
import { hideSecrets } from '../../shared/redaction.js';

/**
 * SQLSTATE classes that mean the database cannot serve us rather than that a statement was
 * wrong: connection exception, invalid authorization, invalid catalog (no such database),
 * insufficient resources and operator intervention (a terminated backend, a shutdown).
 */
const UNAVAILABLE_CLASSES: ReadonlySet<string> = new Set(['08', '28', '3D', '53', '57']);

/** Messages of the driver's own errors when a connection is refused, lost, timed out or closed. */
const LOST_CONNECTION = /connect|terminated|timeout|not queryable|after calling end/i;

/**
 * True when `error` says the database is out of reach (refused, lost, killed, shut down, or
 * refusing our credentials), as opposed to a statement the database rejected.
 */
export function isConnectionError(error: unknown): boolean {
  if (NightshiftError.isInstance(error) || !(error instanceof Error)) return false;
  if (isPgDatabaseError(error)) {
    return UNAVAILABLE_CLASSES.has((error.code ?? '').slice(0, 2));
  }
  // Socket errors (`ECONNREFUSED`, `ECONNRESET` …) carry the failing system call.
  if ('syscall' in error) return true;
  return LOST_CONNECTION.test(error.message);
}

/**
 * `storage_unavailable` naming the database by its masked URL. The secrets (the URL's
 * password, as written and decoded) are also cut out of the driver's message, in case it
 * ever quotes what it was given.
 */
export function unavailableError(
  maskedUrl: string,
  secrets: readonly string[],
  error: unknown,
  what = 'is unavailable',
): NightshiftError {
  const detail = hideSecrets(errorMessage(error), secrets);
  const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
  return new NightshiftError(
    'storage_unavailable',
    `the Postgres database at ${maskedUrl} ${what}: ${detail}`,
    { cause: error, details: code === undefined ? { url: maskedUrl } : { url: maskedUrl, code } },
  );
}
