import pg from 'pg';

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
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** A database value as JSON can carry it: bytes as base64, big integers as numbers when exact, else text. */
export function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonValue);
  return value;
}

/** A row from column names and values, each value made JSON-safe. */
export function jsonRow(
  columns: readonly string[],
  values: readonly unknown[],
): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  columns.forEach((column, index) => {
    row[column] = jsonValue(values[index]);
  });
  return row;
}

/** SQL parameters as the model gives them. SQLite has no booleans: they bind as 1 and 0. */
export type SqlParameter = string | number | boolean | null;

/** Parameters ready for better-sqlite3. */
export function sqliteParameters(
  parameters: readonly SqlParameter[],
): Array<string | number | null> {
  return parameters.map((value) => (typeof value === 'boolean' ? Number(value) : value));
}
