import { describe, expect, it } from 'vitest';
import { createSchedule, CRON_COUNT_LIMIT_DAYS } from '../../src/schedule/index.js';

const anchor = new Date('2025-01-01T00:00:00Z');

describe('counting cron fire times', () => {
  it('counts a year of every-second runs in Paris without listing them (31.5 million)', () => {
    // Listing would take croner about half an hour; the test would time out.
    const schedule = createSchedule({ cron: '* * * * * *', timezone: 'Europe/Paris' }, { anchor });
    const year = schedule.between(anchor, new Date('2026-01-01T00:00:00Z'), 2);
    // DST moves the wall clock, not time: every real second still runs once.
    expect(year.total).toBe(365 * 86_400);
    expect(year.times).toEqual([
      new Date('2025-01-01T00:00:01Z'),
      new Date('2025-01-01T00:00:02Z'),
    ]);
  });

  it('counts one week at 1 s in UTC', () => {
    const schedule = createSchedule({ cron: '* * * * * *' }, { anchor });
    expect(schedule.between(anchor, new Date('2025-01-08T00:00:00Z'), 0).total).toBe(604_800);
  });

  it(`counts only the first ${CRON_COUNT_LIMIT_DAYS} days of a longer gap, a lower bound`, () => {
    const schedule = createSchedule({ cron: '* * * * *' }, { anchor });
    const total = schedule.between(anchor, new Date('2325-01-01T00:00:00Z'), 0).total;
    expect(total).toBe(CRON_COUNT_LIMIT_DAYS * 1440);
  });

  // The count is arithmetic for most patterns; it must agree with croner's own fire times,
  // listed one by one, across DST changes and the unusual day rules.
  const patterns = [
    '*/7 * * * *',
    '0,30 2 * * *',
    '30 2 * * *',
    '30 1 * * *',
    '0 9-17 * * 1-5',
    '*/20 * 2 * * *',
    '0 0 L * *',
    '0 12 * * 5#2',
    '15 3 1,15 * 0',
    '0 */6 15W * *',
  ];
  const windows: [string, string, string][] = [
    ['UTC', '2025-03-01T00:00:00Z', '2025-04-10T00:00:00Z'],
    ['Europe/Paris', '2025-03-28T13:17:05.250Z', '2025-04-01T02:00:00Z'],
    ['Europe/Paris', '2025-10-24T00:00:00Z', '2025-10-28T00:00:00.001Z'],
    ['America/New_York', '2025-03-07T00:00:00Z', '2025-03-11T00:00:00Z'],
    ['America/New_York', '2025-10-31T05:30:00Z', '2025-11-04T00:00:00Z'],
    // Lord Howe moves its clock by 30 minutes, at 02:00 local.
    ['Australia/Lord_Howe', '2025-04-04T00:00:00Z', '2025-04-08T00:00:00Z'],
    ['Australia/Lord_Howe', '2025-10-03T00:00:00Z', '2025-10-07T00:00:00Z'],
    ['Asia/Kolkata', '2025-02-10T00:00:00Z', '2025-02-17T00:00:00Z'],
  ];
  const cases = patterns.flatMap((pattern) =>
    windows.map(([timezone, from, to]) => ({ pattern, timezone, from, to })),
  );
  it.each(cases)('$pattern in $timezone from $from to $to matches listing', (example) => {
    const schedule = createSchedule(
      { cron: example.pattern, timezone: example.timezone },
      { anchor },
    );
    const from = new Date(example.from);
    const to = new Date(example.to);
    const listed = schedule.between(from, to, Number.POSITIVE_INFINITY);
    let walked = 0;
    for (let time = schedule.next(from); time && time <= to; time = schedule.next(time))
      walked += 1;
    expect(listed.times).toHaveLength(walked);
    expect(listed.total).toBe(walked);
  });
});
