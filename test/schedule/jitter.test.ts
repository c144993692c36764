import { describe, expect, it } from 'vitest';
import { jitterOffsetMs } from '../../src/schedule/index.js';

const tick = new Date('2025-01-01T00:00:00Z');
// floor(first 48 bits of sha256("system_monitor|2025-01-01T00:00:00.000Z") / 2^48 × 30,000).
const PINNED_OFFSET = 16_192;
const ticks = Array.from(
  { length: 10_000 },
  (_, index) => new Date(tick.getTime() + index * 60_000),
);

describe('jitterOffsetMs', () => {
  it('gives the same offset for the same agent, tick and jitter, in every process', () => {
    expect(jitterOffsetMs('system_monitor', tick, 30)).toBe(
      jitterOffsetMs('system_monitor', new Date(tick.getTime()), 30),
    );
    // Pinned: processes of different versions in one cluster must agree on each run's delay.
    expect(jitterOffsetMs('system_monitor', tick, 30)).toBe(PINNED_OFFSET);
  });

  it('varies with the agent and with the tick', () => {
    const byTick = new Set(ticks.slice(0, 100).map((time) => jitterOffsetMs('a', time, 60)));
    expect(byTick.size).toBeGreaterThan(90);
    const byAgent = new Set(
      Array.from({ length: 100 }, (_, index) => jitterOffsetMs(`agent-${index}`, tick, 60)),
    );
    expect(byAgent.size).toBeGreaterThan(90);
  });

  it('stays in [0, jitter × 1000) as whole milliseconds, spread evenly', () => {
    const offsets = ticks.map((time) => jitterOffsetMs('digest', time, 10));
    const buckets = Array<number>(10).fill(0);
    for (const offset of offsets) {
      expect(Number.isInteger(offset)).toBe(true);
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(10_000);
      buckets[Math.floor(offset / 1000)]! += 1;
    }
    // 1,000 expected per bucket; ±200 is over six standard deviations.
    for (const count of buckets) expect(Math.abs(count - 1000)).toBeLessThan(200);
  });

  it('handles fractional and zero jitter, and rejects negative jitter', () => {
    for (const time of ticks.slice(0, 200))
      expect(jitterOffsetMs('x', time, 0.5)).toBeLessThan(500);
    expect(jitterOffsetMs('x', tick, 0)).toBe(0);
    expect(() => jitterOffsetMs('x', tick, -1)).toThrow(/^jitter: /);
    expect(() => jitterOffsetMs('x', tick, Number.NaN)).toThrow(/^jitter: /);
  });
});
