import { describe, expect, it } from 'vitest';
import { parseIsoInstant } from '../../src/schedule/index.js';

describe('parseIsoInstant', () => {
  it('reads Z and explicit offsets exactly', () => {
    expect(parseIsoInstant('2025-03-30T09:00:00Z')).toEqual(new Date('2025-03-30T09:00:00Z'));
    expect(parseIsoInstant('2025-03-30T09:00:00+02:00')).toEqual(new Date('2025-03-30T07:00:00Z'));
    expect(parseIsoInstant('2025-03-30T09:00:00-0530')).toEqual(new Date('2025-03-30T14:30:00Z'));
    // An offset wins over the time zone argument.
    expect(parseIsoInstant('2025-03-30T09:00:00Z', 'Asia/Tokyo')).toEqual(
      new Date('2025-03-30T09:00:00Z'),
    );
  });

  it('reads a value without an offset in the given zone, default UTC, never the host zone', () => {
    expect(parseIsoInstant('2025-01-15T09:00:00')).toEqual(new Date('2025-01-15T09:00:00Z'));
    expect(parseIsoInstant('2025-01-15 09:00')).toEqual(new Date('2025-01-15T09:00:00Z'));
    expect(parseIsoInstant('2025-01-15')).toEqual(new Date('2025-01-15T00:00:00Z'));
    expect(parseIsoInstant('2025-01-15T09:00:00', 'Europe/Paris')).toEqual(
      new Date('2025-01-15T08:00:00Z'),
    );
    expect(parseIsoInstant('2025-07-15T09:00:00', 'America/New_York')).toEqual(
      new Date('2025-07-15T13:00:00Z'),
    );
  });

  it('keeps milliseconds and drops digits past them', () => {
    expect(parseIsoInstant('2025-01-15T09:00:00.5Z')?.getTime()).toBe(
      Date.parse('2025-01-15T09:00:00.500Z'),
    );
    expect(parseIsoInstant('2025-01-15T09:00:00.123999Z')?.getTime()).toBe(
      Date.parse('2025-01-15T09:00:00.123Z'),
    );
  });

  it('resolves DST edges like Temporal’s "compatible": earlier when repeated, later when skipped', () => {
    // 01:30 happens twice in New York on 2025-11-02: first in EDT (05:30Z), then in EST.
    expect(parseIsoInstant('2025-11-02T01:30:00', 'America/New_York')).toEqual(
      new Date('2025-11-02T05:30:00Z'),
    );
    // 02:30 never happens on 2025-03-09; it is read as 03:30 EDT, one jump later.
    expect(parseIsoInstant('2025-03-09T02:30:00', 'America/New_York')).toEqual(
      new Date('2025-03-09T07:30:00Z'),
    );
  });

  it.each([
    'tomorrow',
    '2025-02-30',
    '2025-13-01T00:00:00Z',
    '2025-01-01T24:00:00Z',
    '2025-01-01T10:00:00+25:00',
    '2025-1-1',
    '',
  ])('rejects %j', (value) => {
    expect(parseIsoInstant(value)).toBeUndefined();
  });
});
