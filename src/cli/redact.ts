import {
  MIN_CONFIGURED_SECRET_LENGTH,
  secretHider,
  type SecretHider,
} from '../shared/redaction.js';

/** Hides text that must never be printed. */
export type Redactor = SecretHider;

/**
 * A redactor that replaces every occurrence of each secret (values the Nightshift file read
 * from the environment: keys, URLs with passwords; the server's token) with `[redacted]`.
 */
export function createRedactor(secrets: readonly string[]): Redactor {
  return secretHider(secrets, { minLength: MIN_CONFIGURED_SECRET_LENGTH });
}
