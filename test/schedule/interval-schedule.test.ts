import { describe, expect, it } from 'vitest';
import { createSchedule } from '../../src/schedule/index.js';

const anchor = new Date('2025-01-01T00:00:00.000Z');
const anchorMs = anchor.getTime();
const at = (offsetMs: number) => new Date(anchorMs + offsetMs);

describe('interval schedules', () => {
  it('fires at anchor + k × interval, k ≥ 1, strictly after the given instant', () => {
    const schedule = createSchedule({ interval: 300 }, { anchor });
    expect(schedule.next(anchor)).toEqual(at(300_000));
    expect(schedule.next(at(299_999))).toEqual(at(300_000));
    expect(schedule.next(at(300_000))).toEqual(at(600_000));
    // Before the anchor the first tick is still k = 1, never the anchor itself or earlier.
    expect(schedule.next(at(-86_400_000))).toEqual(at(300_000));
  });

  it('does not drift: the 3,600th tick of a 1 s interval is exactly anchor + 3600 s', () => {
    const schedule = createSchedule({ interval: 1 }, { anchor });
    expect(schedule.nextN(anchor, 3600).at(-1)).toEqual(at(3_600_000));
    let time: Date | undefined = anchor;
    for (let tick = 0; tick < 3600; tick += 1) time = schedule.next(time ?? anchor);
    expect(time).toEqual(at(3_600_000));
  });

  it('does not drift when asked from a late instant: a timer that fired late keeps the grid', () => {
    const schedule = createSchedule({ interval: 300 }, { anchor });
    expect(schedule.next(at(300_037))).toEqual(at(600_000));
    expect(schedule.next(at(599_999))).toEqual(at(600_000));
  });

  it('keeps fractional intervals exact to the millisecond, however many ticks later', () => {
    // 1.1 s is 1100.0000000000002 ms in floating point; summing it would drift.
    const schedule = createSchedule({ interval: 1.1 }, { anchor });
    expect(schedule.nextN(anchor, 1000).at(-1)).toEqual(at(1_100_000));
    expect(schedule.next(at(1_100_000_000 - 1))).toEqual(at(1_100_000_000));

    const quarter = createSchedule({ interval: 0.25 }, { anchor });
    expect(quarter.nextN(anchor, 4)).toEqual([at(250), at(500), at(750), at(1000)]);
  });

  it('keeps the anchor’s milliseconds in every tick', () => {
    const oddAnchor = new Date('2025-01-01T12:00:00.123Z');
    const schedule = createSchedule({ interval: 60 }, { anchor: oddAnchor });
    expect(schedule.nextN(oddAnchor, 2)).toEqual([
      new Date('2025-01-01T12:01:00.123Z'),
      new Date('2025-01-01T12:02:00.123Z'),
    ]);
  });

  it('finds the last tick at or before an instant', () => {
    const schedule = createSchedule({ interval: 60 }, { anchor });
    expect(schedule.previous(at(60_000))).toEqual(at(60_000));
    expect(schedule.previous(at(119_999))).toEqual(at(60_000));
    expect(schedule.previous(at(59_999))).toBeUndefined();
  });

  it('lists between (from, to]: from excluded, to included', () => {
    const schedule = createSchedule({ interval: 60 }, { anchor });
    expect(schedule.between(at(60_000), at(180_000), 10)).toEqual({
      times: [at(120_000), at(180_000)],
      total: 2,
    });
    expect(schedule.between(at(180_000), at(60_000), 10)).toEqual({ times: [], total: 0 });
  });

  it('counts a one-week gap at 1 s arithmetically, listing only up to the limit', () => {
    const schedule = createSchedule({ interval: 1 }, { anchor });
    const week = schedule.between(anchor, at(7 * 86_400_000), 3);
    expect(week.total).toBe(604_800);
    expect(week.times).toEqual([at(1000), at(2000), at(3000)]);
  });

  it('counts a year of 1 ms ticks, which no loop could do within the test timeout', () => {
    const schedule = createSchedule({ interval: 0.001 }, { anchor });
    const year = schedule.between(anchor, new Date('2026-01-01T00:00:00.000Z'), 0);
    expect(year).toEqual({ times: [], total: 365 * 86_400_000 });
  });
});
