import {
  MIN_GUESSED_SECRET_LENGTH,
  redactStrings,
  SECRET_NAME,
  secretHider,
  type SecretHider,
  urlPasswords,
} from '../shared/redaction.js';

/** The default cap on one stored string, in characters (see `maxStoredValueChars`). */
const DEFAULT_MAX_STORED_VALUE_CHARS = 100_000;

/** Options of {@link Redactor}. */
export interface RedactorOptions {
  /** Strings longer than this are cut, saying so, wherever they would be stored. Default 100,000. */
  maxStringLength?: number;
}

/**
 * Guards everything about to be stored, served or logged (promise 8): known secret values (API
 * keys, tokens, passwords from connection URLs) become `REDACTED` (`[redacted]`), and a string longer than
 * the cap is cut with a note of how long it was.
 */
export class Redactor {
  readonly #secrets = new Set<string>();
  readonly #maxStringLength: number;
  #hide: SecretHider | undefined;

  constructor(options: RedactorOptions = {}) {
    this.#maxStringLength = options.maxStringLength ?? DEFAULT_MAX_STORED_VALUE_CHARS;
  }

  /** Adds a declared secret value, redacted whatever its length; a URL also adds its password. */
  add(value: string | undefined): void {
    if (!value) return;
    for (const password of urlPasswords(value)) this.add(password);
    if (this.#secrets.has(value)) return;
    this.#secrets.add(value);
    this.#hide = undefined;
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
    return redactStrings(value, (text) => this.#redactString(text));
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
    this.#hide ??= secretHider(this.#secrets);
    return this.#hide(text);
  }
}
