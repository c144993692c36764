import { describe, expect, it } from 'vitest';
import { createSchedule } from '../../src/schedule/index.js';

const anchor = new Date('2025-01-01T00:00:00Z');
const cron = (pattern: string, timezone: string) =>
  createSchedule({ cron: pattern, timezone }, { anchor });
const utc = (text: string) => new Date(text);
const gaps = (times: Date[]) =>
  times.slice(1).map((time, index) => time.getTime() - times[index]!.getTime());

// croner's DST rules, which these tests pin down: a pattern with one second, one minute and one
// hour is a fixed-time job (it runs when the clock jumps over its time, and once when its time
// repeats); any other pattern skips the times the clock jumps over and runs on both occurrences
// of a repeated time.

describe('America/New_York (2025-03-09 02:00 EST → 03:00 EDT; 2025-11-02 02:00 EDT → 01:00 EST)', () => {
  it('runs a 02:30 job, whose time is skipped on the spring-forward night, at 03:00 EDT', () => {
    expect(cron('30 2 * * *', 'America/New_York').nextN(utc('2025-03-08T00:00:00Z'), 3)).toEqual([
      utc('2025-03-08T07:30:00Z'), // 02:30 EST
      utc('2025-03-09T07:00:00Z'), // 02:30 does not exist: 03:00 EDT, the moment of the jump
      utc('2025-03-10T06:30:00Z'), // 02:30 EDT
    ]);
  });

  it('runs a 01:30 job once on the fall-back night, at the first 01:30 (EDT)', () => {
    expect(cron('30 1 * * *', 'America/New_York').nextN(utc('2025-11-01T12:00:00Z'), 2)).toEqual([
      utc('2025-11-02T05:30:00Z'),
      utc('2025-11-03T06:30:00Z'),
    ]);
  });

  it('runs a non-fixed :30 job on both 01:30s of the fall-back night', () => {
    expect(cron('30 * * * *', 'America/New_York').nextN(utc('2025-11-02T04:00:00Z'), 3)).toEqual([
      utc('2025-11-02T04:30:00Z'), // 00:30 EDT
      utc('2025-11-02T05:30:00Z'), // 01:30 EDT
      utc('2025-11-02T06:30:00Z'), // 01:30 EST
    ]);
  });

  it('keeps an hourly job exactly one hour apart in UTC across both changes', () => {
    const hourly = cron('0 * * * *', 'America/New_York');
    const spring = hourly.nextN(utc('2025-03-09T03:30:00Z'), 8);
    const fall = hourly.nextN(utc('2025-11-02T02:30:00Z'), 8);
    expect(spring[0]).toEqual(utc('2025-03-09T04:00:00Z'));
    expect(fall[0]).toEqual(utc('2025-11-02T03:00:00Z'));
    expect(gaps(spring)).toEqual(Array(7).fill(3_600_000));
    expect(gaps(fall)).toEqual(Array(7).fill(3_600_000));
  });

  it('counts 23 hourly runs on the short local day and 25 on the long one', () => {
    const hourly = cron('0 * * * *', 'America/New_York');
    // (from, to] from just before local midnight to just before the next local midnight.
    expect(
      hourly.between(utc('2025-03-09T04:59:59.999Z'), utc('2025-03-10T03:59:59.999Z'), 0).total,
    ).toBe(23);
    expect(
      hourly.between(utc('2025-11-02T03:59:59.999Z'), utc('2025-11-03T04:59:59.999Z'), 0).total,
    ).toBe(25);
  });
});

describe('Europe/Paris (2025-03-30 02:00 CET → 03:00 CEST; 2025-10-26 03:00 CEST → 02:00 CET)', () => {
  it('fires a daily 09:00 job at 08:00Z before the March change and 07:00Z after', () => {
    expect(cron('0 9 * * *', 'Europe/Paris').nextN(utc('2025-03-28T12:00:00Z'), 3)).toEqual([
      utc('2025-03-29T08:00:00Z'),
      utc('2025-03-30T07:00:00Z'),
      utc('2025-03-31T07:00:00Z'),
    ]);
  });

  it('fires it at 07:00Z before the October change and 08:00Z after', () => {
    expect(cron('0 9 * * *', 'Europe/Paris').nextN(utc('2025-10-25T00:00:00Z'), 2)).toEqual([
      utc('2025-10-25T07:00:00Z'),
      utc('2025-10-26T08:00:00Z'),
    ]);
  });

  it('skips a non-fixed 02:00/02:30 job on the spring-forward night', () => {
    const schedule = cron('0,30 2 * * *', 'Europe/Paris');
    expect(schedule.nextN(utc('2025-03-29T00:00:00Z'), 4)).toEqual([
      utc('2025-03-29T01:00:00Z'),
      utc('2025-03-29T01:30:00Z'),
      utc('2025-03-31T00:00:00Z'),
      utc('2025-03-31T00:30:00Z'),
    ]);
    expect(
      schedule.between(utc('2025-03-27T00:00:00Z'), utc('2025-04-02T23:00:00Z'), 0).total,
    ).toBe(12);
  });

  it('runs that job four times on the fall-back night, when 02:00–03:00 happens twice', () => {
    const schedule = cron('0,30 2 * * *', 'Europe/Paris');
    const night = schedule.between(utc('2025-10-25T12:00:00Z'), utc('2025-10-26T12:00:00Z'), 10);
    expect(night.times).toEqual([
      utc('2025-10-26T00:00:00Z'),
      utc('2025-10-26T00:30:00Z'),
      utc('2025-10-26T01:00:00Z'),
      utc('2025-10-26T01:30:00Z'),
    ]);
    expect(night.total).toBe(4);
  });
});
