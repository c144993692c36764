import type pg from 'pg';
import { pgDriver } from '../../../shared/pg-driver.js';

/** Date and time types (and their arrays): kept as Postgres prints them, zone and all. */
const TEXT_TYPES = new Set([
  1082, 1083, 1114, 1184, 1186, 1266, 1182, 1183, 1115, 1185, 1187, 1270,
]);

/**
 * Type parsers for results: dates and times stay text, because turning `timestamp` (no zone)
 * into a JavaScript `Date` would silently apply this machine's time zone.
 */
export const postgresTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    TEXT_TYPES.has(oid)
      ? (value: string) => value
      : pgDriver().types.getTypeParser(
          oid,
          format ?? 'text',
        )) as pg.CustomTypesConfig['getTypeParser'],
};
