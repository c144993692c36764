import { CONFLICT } from '../retry-on-conflict.js';
import type { RedisConnection } from './connection.js';
import type { CompareAndSetWrite } from './scripts.js';

/**
 * A compare-and-set a store prepared from a value it read or knows, to send on its own
 * ({@link sendPrepared}) or along with others in one script (a run's phases); `applied`,
 * called once it applied, keeps what the store knows right (as its own write would) and
 * answers what the store's call answers.
 */
export interface PreparedWrite<T> {
  write: CompareAndSetWrite;
  applied(): T;
}

/** Sends a prepared write on its own: what `applied` answers, or CONFLICT when it did not apply. */
export async function sendPrepared<T>(
  connection: RedisConnection,
  prepared: PreparedWrite<T>,
): Promise<T | typeof CONFLICT> {
  const { key, expected, next, index } = prepared.write;
  const written = await connection.run(() =>
    connection.scripts.compareAndSet(key, expected, next, index),
  );
  return written ? prepared.applied() : CONFLICT;
}
