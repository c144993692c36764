import type { LeaseStore } from '../contracts/lease-store.js';
import { acquireSlot, holdsSlot, leaseOf, type LeaseSlot } from '../lease-rules.js';

/** A {@link LeaseStore} held in this process's memory, timed by the wall clock. */
export function createMemoryLeaseStore(): LeaseStore {
  const slots = new Map<string, LeaseSlot>();

  return {
    async acquire(key, holder, ttlMs) {
      const lease = acquireSlot(slots.get(key), key, holder, ttlMs, Date.now());
      if (lease) slots.set(key, { ...lease });
      return lease;
    },

    async renew(key, holder, token, ttlMs) {
      const now = Date.now();
      const slot = slots.get(key);
      if (!slot || !holdsSlot(slot, holder, token, now)) return false;
      slot.expires_at = now + ttlMs;
      return true;
    },

    async release(key, holder, token) {
      const slot = slots.get(key);
      if (!slot || !holdsSlot(slot, holder, token, Date.now())) return false;
      // The slot stays, freed, so the next token still grows past this one.
      slot.holder = null;
      slot.expires_at = 0;
      return true;
    },

    async get(key) {
      return leaseOf(slots.get(key), Date.now());
    },
  };
}
