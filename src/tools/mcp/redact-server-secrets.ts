import type { McpServerConfig } from '../../config/agent-definition.js';

/** What a hidden value reads as (the same mark the HTTP API uses). */
const REDACTED = '***';
/** Shorter values are too likely to be ordinary words to blank out of a message. */
const MINIMUM_SECRET_LENGTH = 4;

/**
 * A function that blanks the values of a server's `env` and `headers` out of a text.
 * Those are where definitions carry credentials (DESIGN promise 8), and a server's error output
 * or an HTTP error may echo them back into a message that ends up in events and run records.
 */
export function serverSecretRedactor(config: McpServerConfig): (text: string) => string {
  const secrets = new Set<string>();
  for (const value of [
    ...Object.values(config.env ?? {}),
    ...Object.values(config.headers ?? {}),
  ]) {
    secrets.add(value);
    // "Bearer <token>": the token alone is the secret, and may appear without its scheme.
    for (const part of value.split(/\s+/)) secrets.add(part);
  }
  const hidden = [...secrets]
    .filter((secret) => secret.length >= MINIMUM_SECRET_LENGTH)
    .sort((left, right) => right.length - left.length);
  return (text) => hidden.reduce((result, secret) => result.split(secret).join(REDACTED), text);
}
