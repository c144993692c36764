import type { McpServerConfig } from '../../config/agent-definition.js';

/** What a hidden value reads as (the same mark the HTTP API uses). */
const REDACTED = '***';
/** Shorter values are too likely to be ordinary words to blank out of a message. */
const MINIMUM_SECRET_LENGTH = 4;

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
  return [...secrets].filter((secret) => secret.length >= MINIMUM_SECRET_LENGTH);
}

/** A function that blanks `secrets` out of a text (the longest first, so no part of one is left). */
export function secretRedactor(secrets: Iterable<string>): (text: string) => string {
  const hidden = [...new Set(secrets)].sort((left, right) => right.length - left.length);
  return (text) => hidden.reduce((result, secret) => result.split(secret).join(REDACTED), text);
}
