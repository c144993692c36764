import { setTimeout as delay } from 'node:timers/promises';
import { NightshiftError } from '../errors.js';
import { backoffDelayMs } from '../shared/backoff.js';

/** What an optimistic attempt returns when another writer changed the value first. */
export const CONFLICT: unique symbol = Symbol('conflict');

/** Attempts before giving up; only a hot key under many writers ever gets near it. */
const MAX_ATTEMPTS = 100;
/** Attempts that retry at once; later ones wait a little, growing, with jitter. */
const IMMEDIATE_RETRIES = 3;
const MAX_BACKOFF_MS = 50;

/**
 * Runs an optimistic read-modify-write until it is not beaten by another writer: each
 * attempt reads, computes the change, and writes only if the value is still what it read
 * (returning {@link CONFLICT} when it was not). Fails with `storage_unavailable` when
 * contention never lets it through.
 */
export async function retryOnConflict<T>(
  what: string,
  attempt: () => Promise<T | typeof CONFLICT>,
): Promise<T> {
  for (let attempts = 1; attempts <= MAX_ATTEMPTS; attempts += 1) {
    const result = await attempt();
    if (result !== CONFLICT) return result;
    if (attempts > IMMEDIATE_RETRIES) {
      const retry = attempts - IMMEDIATE_RETRIES;
      await delay(backoffDelayMs(retry, { firstMs: 2, maxMs: MAX_BACKOFF_MS, jitter: 'full' }));
    }
  }
  throw new NightshiftError(
    'storage_unavailable',
    `${what}: gave up after ${MAX_ATTEMPTS} attempts, each beaten by a concurrent write`,
  );
}
