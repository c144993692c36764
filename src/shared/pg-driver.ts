import type pg from 'pg';
import { lazyRequire } from './lazy-module.js';

/**
 * The `pg` driver, loaded when the first Postgres store, event log or SQL tool pool is opened
 * rather than with the package (some 15 MB a process that uses no Postgres need not carry).
 */
export const pgDriver = lazyRequire<typeof pg>('pg');

/**
 * True when `error` is the driver's `DatabaseError` (an error the server sent). False while
 * the driver is not loaded: nothing can have raised one yet.
 */
export function isPgDatabaseError(error: unknown): error is pg.DatabaseError {
  const driver = pgDriver.loaded();
  return driver !== undefined && error instanceof driver.DatabaseError;
}
