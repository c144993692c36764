import type { Lease } from './contracts/lease-store.js';

/**
 * A lease key as a backend keeps it. The row outlives a release (with `holder: null`)
 * so the next acquisition's fencing token still grows past every earlier one.
 */
export interface LeaseSlot {
  key: string;
  holder: string | null;
  token: number;
  expires_at: number;
}

/** True while the slot is held by someone: taken, and not yet expired at `now`. */
function isHeld(slot: LeaseSlot | undefined, now: number): slot is LeaseSlot & Lease {
  return slot !== undefined && slot.holder !== null && slot.expires_at > now;
}

/**
 * The slot after `holder` tries to acquire it at `now`, or undefined when another holds it.
 * A holder acquiring a lease it still holds extends it and keeps its token, so a retried
 * acquire does not fence out its own first attempt; any other acquisition gets a new token.
 */
export function acquireSlot(
  slot: LeaseSlot | undefined,
  key: string,
  holder: string,
  ttlMs: number,
  now: number,
): Lease | undefined {
  if (isHeld(slot, now)) {
    if (slot.holder !== holder) return undefined;
    return { key, holder, token: slot.token, expires_at: now + ttlMs };
  }
  return { key, holder, token: (slot?.token ?? 0) + 1, expires_at: now + ttlMs };
}

/** True when `holder` still holds the slot with `token` at `now` (may renew or release it). */
export function holdsSlot(
  slot: LeaseSlot | undefined,
  holder: string,
  token: number,
  now: number,
): boolean {
  return isHeld(slot, now) && slot.holder === holder && slot.token === token;
}

/** The lease a slot shows to readers, or undefined when it is free or expired. */
export function leaseOf(slot: LeaseSlot | undefined, now: number): Lease | undefined {
  if (!isHeld(slot, now)) return undefined;
  return { key: slot.key, holder: slot.holder, token: slot.token, expires_at: slot.expires_at };
}
