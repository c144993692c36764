import { isPgDatabaseError } from '../../shared/pg-driver.js';

/**
 * SQLSTATE classes that mean the database refused the data itself (data exception,
 * integrity constraint violation), such as a NUL character in a payload.
 */
const REFUSED_DATA_CLASSES: ReadonlySet<string> = new Set(['22', '23']);

/**
 * True when the database refused a statement for the data it carried: a batch refused so is
 * written again one item at a time, so only the item it refuses fails, as it would alone.
 */
export function refusesData(error: unknown): boolean {
  return isPgDatabaseError(error) && REFUSED_DATA_CLASSES.has((error.code ?? '').slice(0, 2));
}
