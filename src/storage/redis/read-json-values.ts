import type { RedisConnection } from './connection.js';

/** Keys read per MGET, so a long listing never builds one huge reply. */
const KEYS_PER_READ = 500;

/**
 * The JSON values at `keys`, in order, leaving out keys that are gone (deleted between
 * reading an index and reading the values).
 */
export async function readJsonValues<T>(
  connection: RedisConnection,
  keys: readonly string[],
): Promise<T[]> {
  const values: T[] = [];
  for (let start = 0; start < keys.length; start += KEYS_PER_READ) {
    const batch = keys.slice(start, start + KEYS_PER_READ);
    const found = await connection.run((client) => client.mget(...batch));
    for (const value of found) if (value !== null) values.push(JSON.parse(value) as T);
  }
  return values;
}
