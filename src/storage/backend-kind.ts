import { NightshiftError } from '../errors.js';

/**
 * Checks a router's kind: an unknown kind, or one whose backend is not built yet, fails
 * with `config_invalid` naming it and the kinds that work.
 */
export function checkBackendKind<Kind extends string>(
  backend: string,
  kind: string,
  allowed: readonly Kind[],
  available: readonly Kind[],
): Kind {
  const known = (allowed as readonly string[]).includes(kind);
  if (known && (available as readonly string[]).includes(kind)) return kind as Kind;
  const usable = available.map((name) => `"${name}"`).join(' or ');
  const message = known
    ? `${backend} "${kind}" is not available yet; use ${usable}`
    : `unknown ${backend} "${kind}" (expected one of: ${allowed.join(', ')})`;
  throw new NightshiftError('config_invalid', message, {
    fields: [{ path: 'kind', message }],
    details: { kind, allowed: [...allowed], available: [...available] },
  });
}
