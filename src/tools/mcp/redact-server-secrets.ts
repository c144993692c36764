import type { McpServerConfig } from '../../config/agent-definition.js';
import { MIN_CONFIGURED_SECRET_LENGTH } from '../../shared/redaction.js';

/**
 * The values of a server's `env` and `headers`, and each of their whitespace-separated parts.
 * Those are where definitions carry credentials (DESIGN promise 8), and a server's error output
 * or an HTTP error may echo them back into a message that ends up in events and run records.
 * Give it the config as connected (references resolved): the values are what must not be
 * shown, not the references to them.
 */
export function serverSecrets(config: McpServerConfig): string[] {
  const secrets = new Set<string>();
  for (const value of [
    ...Object.values(config.env ?? {}),
    ...Object.values(config.headers ?? {}),
  ]) {
    secrets.add(value);
    // "Bearer <token>": the token alone is the secret, and may appear without its scheme.
    for (const part of value.split(/\s+/)) secrets.add(part);
  }
  return [...secrets].filter((secret) => secret.length >= MIN_CONFIGURED_SECRET_LENGTH);
}
