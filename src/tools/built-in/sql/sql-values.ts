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
