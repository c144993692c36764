import { afterEach, describe, expect, it } from 'vitest';
import { createSchedule } from '../../src/schedule/index.js';

const anchor = new Date('2025-01-01T00:00:00Z');
const cron = (pattern: string, timezone?: string) =>
  createSchedule(timezone === undefined ? { cron: pattern } : { cron: pattern, timezone }, {
    anchor,
  });

describe('5-field cron', () => {
  it('fires on whole minutes, strictly after the given instant', () => {
    const schedule = cron('*/15 * * * *');
    expect(schedule.next(new Date('2025-01-01T10:07:12.345Z'))).toEqual(
      new Date('2025-01-01T10:15:00Z'),
    );
    expect(schedule.next(new Date('2025-01-01T10:14:59.999Z'))).toEqual(
      new Date('2025-01-01T10:15:00Z'),
    );
    expect(schedule.next(new Date('2025-01-01T10:15:00Z'))).toEqual(
      new Date('2025-01-01T10:30:00Z'),
    );
    expect(schedule.previous(new Date('2025-01-01T10:15:00Z'))).toEqual(
      new Date('2025-01-01T10:15:00Z'),
    );
    expect(schedule.previous(new Date('2025-01-01T10:14:59.999Z'))).toEqual(
      new Date('2025-01-01T10:00:00Z'),
    );
  });

  it('lists the first `limit` fire times in (from, to] and counts them all', () => {
    const schedule = cron('0 9 * * 1-5');
    // 2025-01-06 is a Monday; two weeks hold ten weekday mornings.
    const { times, total } = schedule.between(
      new Date('2025-01-05T00:00:00Z'),
      new Date('2025-01-19T00:00:00Z'),
      3,
    );
    expect(times).toEqual([
      new Date('2025-01-06T09:00:00Z'),
      new Date('2025-01-07T09:00:00Z'),
      new Date('2025-01-08T09:00:00Z'),
    ]);
    expect(total).toBe(10);
  });
});

describe('6-field cron (seconds first)', () => {
  it('runs */10 * * * * * every ten seconds on the tens', () => {
    const schedule = cron('*/10 * * * * *');
    expect(schedule.nextN(new Date('2025-01-01T00:00:05.500Z'), 4)).toEqual([
      new Date('2025-01-01T00:00:10Z'),
      new Date('2025-01-01T00:00:20Z'),
      new Date('2025-01-01T00:00:30Z'),
      new Date('2025-01-01T00:00:40Z'),
    ]);
    expect(schedule.next(new Date('2025-01-01T00:00:50Z'))).toEqual(
      new Date('2025-01-01T00:01:00Z'),
    );
    expect(schedule.between(anchor, new Date('2025-01-02T00:00:00Z'), 0).total).toBe(8640);
  });

  it('reads a seconds field, unlike the 5-field form', () => {
    expect(cron('30 15 10 * * *').next(anchor)).toEqual(new Date('2025-01-01T10:15:30Z'));
    expect(cron('15 10 * * *').next(anchor)).toEqual(new Date('2025-01-01T10:15:00Z'));
  });
});

describe('cron time zone', () => {
  const hostZone = process.env.TZ;
  afterEach(() => {
    if (hostZone === undefined) delete process.env.TZ;
    else process.env.TZ = hostZone;
  });

  it('defaults to UTC, whatever the host’s zone', () => {
    process.env.TZ = 'Asia/Tokyo';
    expect(new Date('2025-01-01T00:00:00Z').getHours()).toBe(9); // the host zone did change
    expect(cron('0 9 * * *').next(anchor)).toEqual(new Date('2025-01-01T09:00:00Z'));
  });

  it('reads the pattern on the wall clock of the given zone', () => {
    expect(cron('0 9 * * *', 'Asia/Tokyo').next(anchor)).toEqual(new Date('2025-01-02T00:00:00Z'));
    expect(cron('0 9 * * *', 'Asia/Kolkata').next(anchor)).toEqual(
      new Date('2025-01-01T03:30:00Z'),
    );
  });
});
