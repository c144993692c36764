import { describe, expect, it } from 'vitest';
import { createSchedule } from '../../src/schedule/index.js';

const anchor = new Date('2025-01-01T00:00:00.000Z');
const utc = (text: string) => new Date(`2025-01-01T${text}Z`);

describe('start_at and end_at', () => {
  it('keeps interval ticks anchor-aligned: the first fire time is the first tick at or after start_at', () => {
    const schedule = createSchedule({ interval: 60, start_at: '2025-01-01T00:02:30Z' }, { anchor });
    expect(schedule.next(anchor)).toEqual(utc('00:03:00'));
    expect(schedule.previous(utc('00:02:59'))).toBeUndefined();
  });

  it('includes a tick exactly at start_at and one exactly at end_at, and nothing after end_at', () => {
    const schedule = createSchedule(
      { interval: 60, start_at: '2025-01-01T00:02:00Z', end_at: '2025-01-01T00:04:00Z' },
      { anchor },
    );
    expect(schedule.nextN(anchor, 10)).toEqual([utc('00:02:00'), utc('00:03:00'), utc('00:04:00')]);
    expect(schedule.next(utc('00:04:00'))).toBeUndefined();
    expect(schedule.previous(utc('01:00:00'))).toEqual(utc('00:04:00'));
    expect(schedule.between(anchor, utc('01:00:00'), 10).total).toBe(3);
  });

  it('bounds cron schedules the same way', () => {
    const schedule = createSchedule(
      { cron: '*/15 * * * *', start_at: '2025-01-01T00:10:00Z', end_at: '2025-01-01T01:00:00Z' },
      { anchor },
    );
    const { times, total } = schedule.between(anchor, utc('02:00:00'), 10);
    expect(times).toEqual([utc('00:15:00'), utc('00:30:00'), utc('00:45:00'), utc('01:00:00')]);
    expect(total).toBe(4);
  });

  it('reads start_at without an offset in the cron time zone, and in UTC otherwise', () => {
    const paris = createSchedule(
      { cron: '0 * * * *', timezone: 'Europe/Paris', start_at: '2025-07-01T09:00:00' },
      { anchor },
    );
    // 09:00 in Paris in July is 07:00Z.
    expect(paris.next(anchor)).toEqual(new Date('2025-07-01T07:00:00Z'));
    const interval = createSchedule(
      { interval: 3600, start_at: '2025-07-01T09:00:00' },
      { anchor },
    );
    expect(interval.next(anchor)).toEqual(new Date('2025-07-01T09:00:00Z'));
  });
});

describe('run_at', () => {
  const spec = { run_at: '2025-06-01T09:00:00.250Z' };
  const runAt = new Date('2025-06-01T09:00:00.250Z');

  it('fires once, to the millisecond, and only after an earlier instant', () => {
    const schedule = createSchedule(spec, { anchor });
    expect(schedule.next(anchor)).toEqual(runAt);
    expect(schedule.next(new Date(runAt.getTime() - 1))).toEqual(runAt);
    expect(schedule.next(runAt)).toBeUndefined();
    expect(schedule.nextN(anchor, 5)).toEqual([runAt]);
    expect(schedule.previous(runAt)).toEqual(runAt);
    expect(schedule.between(anchor, runAt, 10)).toEqual({ times: [runAt], total: 1 });
    expect(schedule.between(runAt, new Date('2026-01-01T00:00:00Z'), 10).total).toBe(0);
  });

  it('never fires when run_at is outside start_at..end_at', () => {
    const schedule = createSchedule({ ...spec, end_at: '2025-05-01T00:00:00Z' }, { anchor });
    expect(schedule.next(anchor)).toBeUndefined();
  });
});

describe('nextN', () => {
  it('returns n fire times, or fewer when the schedule ends first', () => {
    const schedule = createSchedule({ interval: 10, end_at: '2025-01-01T00:00:30Z' }, { anchor });
    expect(schedule.nextN(anchor, 2)).toEqual([utc('00:00:10'), utc('00:00:20')]);
    expect(schedule.nextN(anchor, 10)).toHaveLength(3);
    expect(schedule.nextN(anchor, 0)).toEqual([]);
  });
});

describe('invalid specs', () => {
  const cases: [string, Parameters<typeof createSchedule>[0], RegExp][] = [
    ['no kind', {}, /^interval: one of interval, cron or run_at is required/],
    ['two kinds', { interval: 60, cron: '* * * * *' }, /^cron: only one of/],
    ['zero interval', { interval: 0 }, /^interval: /],
    ['negative interval', { interval: -5 }, /^interval: /],
    ['sub-millisecond interval', { interval: 0.0001 }, /^interval: /],
    ['infinite interval', { interval: Infinity }, /^interval: /],
    ['7-field cron', { cron: '0 0 0 * * * 2025' }, /^cron: must have 5 fields/],
    ['bad cron', { cron: '61 * * * *' }, /^cron: is not a valid cron pattern/],
    ['unknown zone', { cron: '* * * * *', timezone: 'Mars/Olympus' }, /^timezone: /],
    ['zone without cron', { interval: 60, timezone: 'Europe/Paris' }, /^timezone: only applies/],
    ['bad run_at', { run_at: 'tomorrow' }, /^run_at: must be an ISO 8601/],
    ['impossible date', { interval: 60, start_at: '2025-02-30T00:00:00Z' }, /^start_at: /],
    [
      'end before start',
      { interval: 60, start_at: '2025-02-01T00:00:00Z', end_at: '2025-01-01T00:00:00Z' },
      /^end_at: must be after start_at/,
    ],
  ];
  it.each(cases)('rejects %s with an error naming the field', (_name, spec, message) => {
    expect(() => createSchedule(spec, { anchor })).toThrow(message);
  });

  it('rejects an invalid anchor', () => {
    expect(() => createSchedule({ interval: 1 }, { anchor: new Date(Number.NaN) })).toThrow(
      /^anchor: /,
    );
  });
});
