/** A held lease: who holds it, until when, and its fencing token. */
export interface Lease {
  key: string;
  holder: string;
  /** Grows with every new acquisition of the key; a stale holder's token is smaller. */
  token: number;
  expires_at: number;
}

/** Expiring, fenced leases (the overlap guard across processes). */
export interface LeaseStore {
  /** Takes the lease if it is free or expired; returns it, or undefined when another holds it. */
  acquire(key: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extends a lease still held with this token; false when it was lost. */
  renew(key: string, holder: string, token: number, ttlMs: number): Promise<boolean>;
  /** Releases a lease still held with this token; false when it was lost. */
  release(key: string, holder: string, token: number): Promise<boolean>;
  get(key: string): Promise<Lease | undefined>;
}
