/** Shorter values are not hidden: they would blot out ordinary words and numbers, and guess nothing. */
const SHORTEST_SECRET = 4;

/** Hides text that must never be printed. */
export type Redactor = (text: string) => string;

/**
 * A redactor that replaces every occurrence of each secret (values the Nightshift file read
 * from the environment: keys, URLs with passwords) with `***`.
 */
export function createRedactor(secrets: readonly string[]): Redactor {
  const hidden = [...new Set(secrets)]
    .filter((secret) => secret.length >= SHORTEST_SECRET)
    // Longest first, so a secret that contains another is hidden whole.
    .sort((a, b) => b.length - a.length);
  if (hidden.length === 0) return (text) => text;
  return (text) => hidden.reduce((result, secret) => result.split(secret).join('***'), text);
}

/** The value with every string inside it redacted (for structured log fields). */
export function redactValue(value: unknown, redact: Redactor): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redact));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, redactValue(item, redact)]),
    );
  }
  return value;
}
