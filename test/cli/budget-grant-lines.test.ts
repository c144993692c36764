/**
 * What the CLI makes of budget grants that expire: `--expires` read as an instant or a duration
 * from now, and a `budget_granted` event summed up in one line.
 */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { eventSummary } from '../../src/cli/event-summary.js';
import { expiresArgument } from '../../src/cli/expires-argument.js';
import type { NightshiftEvent } from '../../src/storage/index.js';

const NOW = new Date('2026-12-03T10:00:00.000Z');
const parse = expiresArgument(() => NOW);

describe('--expires', () => {
  it('reads a duration from now, in days, hours, minutes and seconds', () => {
    expect(parse('30m')).toBe('2026-12-03T10:30:00.000Z');
    expect(parse('2h')).toBe('2026-12-03T12:00:00.000Z');
    expect(parse('1h30m')).toBe('2026-12-03T11:30:00.000Z');
    expect(parse('1d12h')).toBe('2026-12-04T22:00:00.000Z');
    expect(parse(' 90s ')).toBe('2026-12-03T10:01:30.000Z');
  });

  it('passes an instant on as written: the server checks it, and that it is in the future', () => {
    expect(parse('2026-12-03T18:00:00Z')).toBe('2026-12-03T18:00:00Z');
    expect(parse('2026-12-03T18:00:00+01:00')).toBe('2026-12-03T18:00:00+01:00');
  });

  it('refuses what is neither, and a duration of nothing', () => {
    for (const bad of ['', 'soon', '2', '1.5h', '-1h', '30m2h', '2 h', 'tomorrow', '2026-12-03']) {
      expect(() => parse(bad), bad).toThrow(InvalidArgumentError);
      expect(() => parse(bad), bad).toThrow(/ISO 8601 instant .* or a duration from now/);
    }
    expect(() => parse('0h0m')).toThrow(/longer than 0/);
    expect(() => parse('99999999999d')).toThrow(InvalidArgumentError);
  });
});

describe('a budget_granted event line', () => {
  const granted = (overrides: Partial<NightshiftEvent<'budget_granted'>['payload']> = {}) =>
    ({
      id: '9',
      type: 'budget_granted',
      agent_id: 'fleet:all',
      run_id: null,
      timestamp: '2026-12-03T10:00:00.000Z',
      payload: {
        grant_id: 'g-1',
        budget: 'fleet:per_day:2026-12-03',
        scope: 'fleet',
        name: null,
        window: 'per_day',
        usd: 2.5,
        tokens: 0,
        requests: 10,
        tool_calls: 0,
        by: 'ana',
        note: 'launch day',
        expires_at: '2026-12-03T18:00:00.000Z',
        resets_at: '2026-12-04T00:00:00.000Z',
        ...overrides,
      },
    }) satisfies NightshiftEvent;

  it('says how much, on which budget, until when, by whom and why', () => {
    const longest = { value: 80, error: 80 };
    expect(eventSummary(granted(), longest)).toBe(
      ' $2.50, 10 requests on fleet:per_day:2026-12-03 until 2026-12-03T18:00:00Z by ana: launch day',
    );
    expect(eventSummary(granted({ expires_at: null, usd: 0 }), longest)).toBe(
      ' 10 requests on fleet:per_day:2026-12-03 by ana: launch day',
    );
  });
});
