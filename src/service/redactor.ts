/** What replaces a secret value wherever it would be written. */
export const REDACTED = '[redacted]';

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH/i;
/** Shorter values would redact ordinary words. */
const MIN_SECRET_LENGTH = 8;

/**
 * Replaces known secret values (API keys, tokens, passwords from connection URLs) with
 * `[redacted]` in anything about to be written to events, run records or logs (promise 8).
 */
export class Redactor {
  readonly #secrets = new Set<string>();
  #pattern: RegExp | undefined;

  /** Adds a secret value; a URL also adds its password. Short values are ignored. */
  add(value: string | undefined): void {
    if (!value || value.length < MIN_SECRET_LENGTH || this.#secrets.has(value)) {
      this.#addUrlPassword(value);
      return;
    }
    this.#secrets.add(value);
    this.#pattern = undefined;
    this.#addUrlPassword(value);
  }

  /** Adds the values of environment variables whose names say they hold secrets. */
  addFromEnvironment(env: Readonly<Record<string, string | undefined>>): void {
    for (const [name, value] of Object.entries(env)) if (SECRET_NAME.test(name)) this.add(value);
  }

  /**
   * `value` with every secret inside its strings replaced: a copy where something was replaced,
   * `value` itself (never modified) where nothing was.
   */
  redact<T>(value: T): T {
    if (this.#secrets.size === 0) return value;
    return this.#walk(value) as T;
  }

  /** Copies only the arrays and objects on the way to a replaced string. */
  #walk(value: unknown): unknown {
    if (typeof value === 'string') return this.#redactString(value);
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let index = 0; index < value.length; index += 1) {
        const item: unknown = value[index];
        const walked = this.#walk(item);
        if (walked !== item) (copy ??= [...value])[index] = walked;
      }
      return copy ?? value;
    }
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      let copy: Record<string, unknown> | undefined;
      for (const [key, item] of Object.entries(value)) {
        const walked = this.#walk(item);
        if (walked !== item) (copy ??= { ...value })[key] = walked;
      }
      return copy ?? value;
    }
    return value;
  }

  #redactString(text: string): string {
    this.#pattern ??= new RegExp(
      [...this.#secrets]
        .sort((a, b) => b.length - a.length)
        .map((secret) => secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    );
    this.#pattern.lastIndex = 0;
    return this.#pattern.test(text) ? text.replace(this.#pattern, REDACTED) : text;
  }

  #addUrlPassword(value: string | undefined): void {
    if (!value || !value.includes('://')) return;
    try {
      const password = decodeURIComponent(new URL(value).password);
      if (password) this.add(password);
    } catch {
      // Not a URL: nothing more to add.
    }
  }
}
