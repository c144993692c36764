import { wallClockMs, wallClockToInstantMs } from './time-zone-offset.js';

// ISO 8601 calendar date, optionally with a time (T or space), fraction and offset.
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Reads an ISO 8601 date-time as an exact instant, or returns undefined when it is not one.
 * A value with `Z` or an offset means exactly that; one without is a wall clock reading in
 * `timezone` (default UTC), never in the host's zone, so every machine reads it the same way.
 */
export function parseIsoInstant(value: string, timezone = 'UTC'): Date | undefined {
  const match = ISO_DATE_TIME.exec(value.trim());
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match
    .slice(1, 7)
    .map((field) => (field === undefined ? 0 : Number(field))) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Times are millisecond-precise: digits past the third are dropped.
  const millisecond = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  const wallMs = wallClockMs(year, month, day, hour, minute, second, millisecond);
  const readBack = new Date(wallMs);
  // Date.UTC rolls 2025-02-30 over to March; a reading that does not survive is not a date.
  if (
    year < 100 ||
    readBack.getUTCFullYear() !== year ||
    readBack.getUTCMonth() !== month - 1 ||
    readBack.getUTCDate() !== day ||
    readBack.getUTCHours() !== hour ||
    readBack.getUTCMinutes() !== minute ||
    readBack.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  const offset = match[8];
  if (offset === undefined) return new Date(wallClockToInstantMs(wallMs, timezone));
  if (offset.toUpperCase() === 'Z') return new Date(wallMs);
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const offsetHours = Number(digits.slice(0, 2));
  const offsetMinutes = Number(digits.slice(2) || '0');
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  return new Date(wallMs - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
}
