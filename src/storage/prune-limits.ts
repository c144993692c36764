import { NightshiftError } from '../errors.js';

/** How many items one retention call removes at most when the caller gives no `limit`. */
export const PRUNE_LIMITS = { runs: 500, events: 1_000, messages: 1_000 } as const;

/**
 * A retention call's `limit`, checked (a positive whole number; `fallback` when absent). A bad
 * one is a caller's bug: `config_invalid` naming `limit`.
 */
export function pruneLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (Number.isSafeInteger(limit) && limit > 0) return limit;
  const message = `must be a positive whole number, got ${String(limit)}`;
  throw new NightshiftError('config_invalid', `limit: ${message}`, {
    fields: [{ path: 'limit', message }],
  });
}

/** A retention call's cutoff instant, checked; `config_invalid` naming `field` when it is no ISO instant. */
export function pruneCutoff(value: string, field: string): number {
  const time = Date.parse(value);
  if (Number.isFinite(time)) return time;
  const message = `must be an ISO 8601 instant, got ${JSON.stringify(value)}`;
  throw new NightshiftError('config_invalid', `${field}: ${message}`, {
    fields: [{ path: field, message }],
  });
}
