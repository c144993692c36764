import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LeaseStore } from '../../../src/storage/index.js';
import { WAIT, type StoreFactory, type StoreFixture } from './fixtures.js';

const MINUTE = 60_000;
/** Long enough to acquire and inspect a lease, short enough to wait out. */
const SHORT_TTL = 50;

/** The LeaseStore contract (expiry and fencing), run against one backend. */
export function describeLeaseStore(name: string, factory: StoreFactory): void {
  describe(`LeaseStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let leases: LeaseStore;

    beforeEach(async () => {
      fixture = await factory();
      leases = fixture.store.leases;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('grants a free lease and shows it to readers', async () => {
      const before = Date.now();
      const lease = await leases.acquire('agent:alpha', 'worker-1', MINUTE);
      expect(lease).toMatchObject({ key: 'agent:alpha', holder: 'worker-1' });
      expect(lease!.token).toBeGreaterThan(0);
      expect(lease!.expires_at).toBeGreaterThanOrEqual(before + MINUTE);
      expect(lease!.expires_at).toBeLessThanOrEqual(Date.now() + MINUTE);
      expect(await leases.get('agent:alpha')).toEqual(lease);
      expect(await leases.get('agent:bravo')).toBeUndefined();
    });

    it('refuses a lease another holder still holds', async () => {
      const held = await leases.acquire('agent:alpha', 'worker-1', MINUTE);
      expect(await leases.acquire('agent:alpha', 'worker-2', MINUTE)).toBeUndefined();
      expect(await leases.get('agent:alpha')).toEqual(held);
      expect(await leases.acquire('agent:bravo', 'worker-2', MINUTE)).toBeDefined();
    });

    it('lets the holder acquire again, extending it under the same token', async () => {
      const first = await leases.acquire('agent:alpha', 'worker-1', 1_000);
      const again = await leases.acquire('agent:alpha', 'worker-1', MINUTE);
      expect(again?.token).toBe(first?.token);
      expect(again!.expires_at).toBeGreaterThan(first!.expires_at);
      expect(await leases.renew('agent:alpha', 'worker-1', first!.token, MINUTE)).toBe(true);
    });

    it('grants exactly one of many racing acquisitions', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          leases.acquire('agent:alpha', `worker-${index}`, MINUTE),
        ),
      );
      const granted = results.filter((lease) => lease !== undefined);
      expect(granted).toHaveLength(1);
      expect(await leases.get('agent:alpha')).toEqual(granted[0]);
    });

    it('renews only for the holder with the current token', async () => {
      const lease = await leases.acquire('agent:alpha', 'worker-1', 1_000);
      expect(await leases.renew('agent:alpha', 'worker-1', lease!.token + 1, MINUTE)).toBe(false);
      expect(await leases.renew('agent:alpha', 'worker-2', lease!.token, MINUTE)).toBe(false);
      expect(await leases.renew('agent:missing', 'worker-1', lease!.token, MINUTE)).toBe(false);
      expect((await leases.get('agent:alpha'))?.expires_at).toBe(lease!.expires_at);

      expect(await leases.renew('agent:alpha', 'worker-1', lease!.token, MINUTE)).toBe(true);
      const renewed = await leases.get('agent:alpha');
      expect(renewed?.expires_at).toBeGreaterThan(lease!.expires_at);
      expect(renewed?.token).toBe(lease!.token);
    });

    it('releases only for the holder with the current token, once', async () => {
      const lease = await leases.acquire('agent:alpha', 'worker-1', MINUTE);
      expect(await leases.release('agent:alpha', 'worker-2', lease!.token)).toBe(false);
      expect(await leases.release('agent:alpha', 'worker-1', lease!.token - 1)).toBe(false);
      expect(await leases.get('agent:alpha')).toEqual(lease);

      expect(await leases.release('agent:alpha', 'worker-1', lease!.token)).toBe(true);
      expect(await leases.get('agent:alpha')).toBeUndefined();
      expect(await leases.release('agent:alpha', 'worker-1', lease!.token)).toBe(false);
      expect(await leases.renew('agent:alpha', 'worker-1', lease!.token, MINUTE)).toBe(false);
    });

    it('issues a larger token on every new acquisition, also after a release', async () => {
      const tokens: number[] = [];
      for (const holder of ['worker-1', 'worker-2', 'worker-1']) {
        const lease = await leases.acquire('agent:alpha', holder, MINUTE);
        tokens.push(lease!.token);
        await leases.release('agent:alpha', holder, lease!.token);
      }
      expect(tokens[1]).toBeGreaterThan(tokens[0]!);
      expect(tokens[2]).toBeGreaterThan(tokens[1]!);
    });

    it('frees an expired lease for another holder and fences out the stale one', async () => {
      const stale = await leases.acquire('agent:alpha', 'worker-1', SHORT_TTL);
      await expect.poll(() => leases.get('agent:alpha'), WAIT).toBeUndefined();

      const fresh = await leases.acquire('agent:alpha', 'worker-2', MINUTE);
      expect(fresh?.holder).toBe('worker-2');
      expect(fresh!.token).toBeGreaterThan(stale!.token);

      expect(await leases.renew('agent:alpha', 'worker-1', stale!.token, MINUTE)).toBe(false);
      expect(await leases.release('agent:alpha', 'worker-1', stale!.token)).toBe(false);
      expect(await leases.get('agent:alpha')).toEqual(fresh);
    });

    it('does not renew or release a lease that expired, even when nobody took it', async () => {
      const lease = await leases.acquire('agent:alpha', 'worker-1', SHORT_TTL);
      await expect.poll(() => leases.get('agent:alpha'), WAIT).toBeUndefined();
      expect(await leases.renew('agent:alpha', 'worker-1', lease!.token, MINUTE)).toBe(false);
      expect(await leases.release('agent:alpha', 'worker-1', lease!.token)).toBe(false);
      const next = await leases.acquire('agent:alpha', 'worker-1', MINUTE);
      expect(next!.token).toBeGreaterThan(lease!.token);
    });
  });
}
