import { copyPlain } from '../../shared/copy-plain.js';
import { groupCommit } from '../group-commit.js';
import type { PostgresDatabase, PreparedStatement } from './connection.js';

/** Most rows asked for in one statement. */
const MAX_BATCH_READS = 500;

/**
 * Reads of rows by key asked for together (a fleet's ticks falling due at once) go in one
 * statement, and those asked for while it is out go in the next (`group-commit.ts`): each
 * read still sees the row as of a statement made after it was asked for, and alone waits
 * only for a microtask. `statement` takes the keys as `$1::text[]` and returns each row with
 * its key in `keyColumn`. A key asked for twice in a batch gets a row of its own each time.
 */
export function batchedReads<Row extends object>(
  database: PostgresDatabase,
  statement: PreparedStatement,
  keyColumn: keyof Row & string,
): (key: string) => Promise<Row | undefined> {
  const reads = groupCommit<string, Row | undefined>(async (keys) => {
    const { rows } = await database.read<Row>(statement, [[...new Set(keys)]]);
    const byKey = new Map(rows.map((row) => [String(row[keyColumn]), row]));
    const handed = new Set<string>();
    return keys.map((key) => {
      const row = byKey.get(key);
      if (!row || !handed.has(key)) {
        handed.add(key);
        return row;
      }
      return copyPlain(row);
    });
  }, MAX_BATCH_READS);
  return (key) => reads.write(key);
}
