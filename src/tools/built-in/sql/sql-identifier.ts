import { NightshiftError } from '../../../errors.js';

const PART = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `value` when it is a plain SQL name — `events`, `archive.events`, `db.archive.events` — and a
 * `tool_error` naming `field` otherwise. Names pass this check before they are put into SQL
 * text (they cannot be bound as parameters); anything that could close a quote or add a clause
 * fails it.
 */
export function sqlIdentifier(value: string, field: string): string {
  const parts = value.split('.');
  if (value.length > 190 || parts.length > 3 || !parts.every((part) => PART.test(part))) {
    throw new NightshiftError(
      'tool_error',
      `${field}: "${value.slice(0, 100)}" is not a plain SQL name (letters, digits and "_", optionally schema-qualified with ".")`,
      { fields: [{ path: field, message: 'must be a plain SQL name' }] },
    );
  }
  return value;
}

/** The column name a possibly qualified name ends with (`events.id` → `id`). */
export function columnName(identifier: string): string {
  return identifier.split('.').at(-1) ?? identifier;
}
