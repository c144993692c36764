import { describe, expect, it } from 'vitest';
import { createSchedule, planMisfire } from '../../src/schedule/index.js';

const anchor = new Date('2025-01-01T00:00:00Z');
const at = (seconds: number) => new Date(anchor.getTime() + seconds * 1000);
const everyMinute = createSchedule({ interval: 60 }, { anchor });

// The process last dealt with the tick at +60 s and comes back at +610 s: the ticks at
// +120 … +600 (nine of them) were missed; the newest one is 10 s old.
const downtime = { schedule: everyMinute, lastScheduledAt: at(60), now: at(610) };

describe('planMisfire', () => {
  it('skip: counts every missed tick and catches none up', () => {
    expect(planMisfire({ ...downtime, policy: 'skip', graceSeconds: 60 })).toEqual({
      missed: 9,
      lastMissed: at(600),
      resumeAfter: at(610),
    });
  });

  it('run_once within the grace: runs the newest missed tick once and counts the others', () => {
    const plan = planMisfire({ ...downtime, policy: 'run_once', graceSeconds: 60 });
    expect(plan).toEqual({
      missed: 8,
      lastMissed: at(540),
      catchUp: at(600),
      resumeAfter: at(610),
    });
    // Normal scheduling resumes after the catch-up, never repeating it.
    expect(everyMinute.next(plan.resumeAfter)).toEqual(at(660));
  });

  it('run_once past the grace: counts every tick as missed', () => {
    expect(planMisfire({ ...downtime, policy: 'run_once', graceSeconds: 5 })).toEqual({
      missed: 9,
      lastMissed: at(600),
      resumeAfter: at(610),
    });
  });

  it('run_once: the grace includes its bound', () => {
    const plan = planMisfire({ ...downtime, policy: 'run_once', graceSeconds: 10 });
    expect(plan.catchUp).toEqual(at(600));
  });

  it('run_once with one missed tick: catches it up and counts nothing missed', () => {
    const plan = planMisfire({
      schedule: everyMinute,
      lastScheduledAt: at(540),
      now: at(610),
      policy: 'run_once',
      graceSeconds: 60,
    });
    expect(plan).toEqual({ missed: 0, catchUp: at(600), resumeAfter: at(610) });
  });

  it('misses nothing for a new agent or when no tick fell in the gap', () => {
    for (const policy of ['skip', 'run_once'] as const) {
      expect(
        planMisfire({
          schedule: everyMinute,
          lastScheduledAt: undefined,
          now: at(610),
          policy,
          graceSeconds: 60,
        }),
      ).toEqual({ missed: 0, resumeAfter: at(610) });
      expect(
        planMisfire({
          schedule: everyMinute,
          lastScheduledAt: at(600),
          now: at(659),
          policy,
          graceSeconds: 60,
        }),
      ).toEqual({ missed: 0, resumeAfter: at(659) });
    }
  });

  it('resumes after lastScheduledAt when it is ahead of this clock, so no tick runs twice', () => {
    const plan = planMisfire({
      schedule: everyMinute,
      lastScheduledAt: at(720),
      now: at(700),
      policy: 'run_once',
      graceSeconds: 60,
    });
    expect(plan).toEqual({ missed: 0, resumeAfter: at(720) });
  });

  it('counts a week asleep at 1 s without listing it', () => {
    const everySecond = createSchedule({ interval: 1 }, { anchor });
    const week = 7 * 86_400;
    expect(
      planMisfire({
        schedule: everySecond,
        lastScheduledAt: anchor,
        now: at(week),
        policy: 'run_once',
        graceSeconds: 5,
      }),
    ).toEqual({
      missed: week - 1,
      lastMissed: at(week - 1),
      catchUp: at(week),
      resumeAfter: at(week),
    });
  });

  it('works on cron schedules across a DST change', () => {
    const daily = createSchedule({ cron: '0 9 * * *', timezone: 'Europe/Paris' }, { anchor });
    const plan = planMisfire({
      schedule: daily,
      lastScheduledAt: new Date('2025-03-28T08:00:00Z'),
      now: new Date('2025-04-01T07:30:00Z'),
      policy: 'run_once',
      graceSeconds: 3600,
    });
    expect(plan).toEqual({
      missed: 3, // 03-29 08:00Z, 03-30 07:00Z, 03-31 07:00Z
      lastMissed: new Date('2025-03-31T07:00:00Z'),
      catchUp: new Date('2025-04-01T07:00:00Z'),
      resumeAfter: new Date('2025-04-01T07:30:00Z'),
    });
  });

  it('rejects a negative grace', () => {
    expect(() => planMisfire({ ...downtime, policy: 'run_once', graceSeconds: -1 })).toThrow(
      /^misfire_grace: /,
    );
  });
});
