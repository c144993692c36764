import { NightshiftError } from '../errors.js';

/** The `keep` of a message trim, checked: a whole number of at least 1, else `config_invalid`. */
export function checkKeep(keep: number): number {
  if (Number.isSafeInteger(keep) && keep >= 1) return keep;
  const message = `must be a whole number of at least 1, got ${String(keep)}`;
  throw new NightshiftError('config_invalid', `keep: ${message}`, {
    fields: [{ path: 'keep', message }],
  });
}
