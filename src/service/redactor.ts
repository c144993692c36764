import { SECRET_NAME } from '../config/secret-name.js';

/** What replaces a secret value wherever it would be written. */
export const REDACTED = '[redacted]';

/**
 * Values guessed to be secrets (environment variables named like secrets) shorter than this are
 * not redacted: they would blot out ordinary words. Declared secrets are redacted at any length.
 */
const MIN_GUESSED_SECRET_LENGTH = 8;
/** The default cap on one stored string, in characters (see `maxStoredValueChars`). */
export const DEFAULT_MAX_STORED_VALUE_CHARS = 100_000;

/** Options of {@link Redactor}. */
export interface RedactorOptions {
  /** Strings longer than this are cut, saying so, wherever they would be stored. Default 100,000. */
  maxStringLength?: number;
}

/**
 * Guards everything about to be stored, served or logged (promise 8): known secret values (API
 * keys, tokens, passwords from connection URLs) become `[redacted]`, and a string longer than
 * the cap is cut with a note of how long it was.
 */
export class Redactor {
  readonly #secrets = new Set<string>();
  readonly #maxStringLength: number;
  #pattern: RegExp | undefined;

  constructor(options: RedactorOptions = {}) {
    this.#maxStringLength = options.maxStringLength ?? DEFAULT_MAX_STORED_VALUE_CHARS;
  }

  /** Adds a declared secret value, redacted whatever its length; a URL also adds its password. */
  add(value: string | undefined): void {
    if (!value) return;
    this.#addUrlPassword(value);
    if (this.#secrets.has(value)) return;
    this.#secrets.add(value);
    this.#pattern = undefined;
  }

  /** Adds the values of environment variables whose names say they hold secrets (long enough to tell). */
  addFromEnvironment(env: Readonly<Record<string, string | undefined>>): void {
    for (const [name, value] of Object.entries(env)) {
      if (SECRET_NAME.test(name) && value && value.length >= MIN_GUESSED_SECRET_LENGTH) {
        this.add(value);
      }
    }
  }

  /**
   * `value` with every secret inside its strings replaced and every overlong string cut: a copy
   * where something changed, `value` itself (never modified) where nothing did.
   */
  redact<T>(value: T): T {
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
    const redacted = this.#secrets.size === 0 ? text : this.#replaceSecrets(text);
    return redacted.length > this.#maxStringLength ? this.#cut(redacted) : redacted;
  }

  /**
   * The first part of an overlong string and a note of its full length (nothing keeps the rest).
   * The two together fit the cap, so cutting again (a served copy of a stored value) changes nothing.
   */
  #cut(text: string): string {
    const note = (kept: number) =>
      `\n[cut by nightshift: ${text.length} characters, the first ${kept} kept; the rest was not stored]`;
    const kept = Math.max(0, this.#maxStringLength - note(this.#maxStringLength).length);
    return `${text.slice(0, kept)}${note(kept)}`;
  }

  #replaceSecrets(text: string): string {
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

  #addUrlPassword(value: string): void {
    if (!value.includes('://')) return;
    try {
      const password = decodeURIComponent(new URL(value).password);
      if (password) this.add(password);
    } catch {
      // Not a URL: nothing more to add.
    }
  }
}
