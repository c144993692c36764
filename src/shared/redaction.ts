/**
 * The one way Nightshift hides secrets (promise 8), used by the service's guard, the HTTP API,
 * the CLI, the MCP connections and the storage backends' messages: one marker, one rule for
 * which values count, one way to cut them out of text and URLs.
 */

/**
 * What replaces a hidden value wherever it would be stored, served, printed or logged. The
 * service has written it into stored runs and events, so it never changes.
 */
export const REDACTED = '[redacted]';

/**
 * Values guessed to be secrets (environment variables named like secrets) shorter than this are
 * not hidden: they would blot out ordinary words. Declared secrets are hidden at any length.
 */
export const MIN_GUESSED_SECRET_LENGTH = 8;

/**
 * Values taken from configuration to hide from free text (what a Nightshift file read from the
 * environment, an MCP server's `env` and `headers`) shorter than this are left: a flag like `1`
 * or `on` would blot out ordinary words and numbers, and hides nothing worth hiding.
 */
export const MIN_CONFIGURED_SECRET_LENGTH = 4;

/** Environment variable names that say their value is a secret (`OPENAI_API_KEY`, `DB_PASSWORD`, …). */
export const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH/i;

/** Replaces secrets inside a text with {@link REDACTED}. */
export type SecretHider = (text: string) => string;

/** Options of {@link secretHider}. */
export interface SecretHiderOptions {
  /** Secrets shorter than this are left in the text. Default 1 (every non-empty secret). */
  minLength?: number;
}

/**
 * A function that replaces every occurrence of each secret in a text with {@link REDACTED}, in
 * one pass with the longest secret first: a secret that contains another is hidden whole, and the
 * marker itself is never searched again.
 */
export function secretHider(
  secrets: Iterable<string>,
  options: SecretHiderOptions = {},
): SecretHider {
  const minLength = Math.max(1, options.minLength ?? 1);
  const hidden = [...new Set(secrets)]
    .filter((secret) => secret.length >= minLength)
    .sort((left, right) => right.length - left.length);
  if (hidden.length === 0) return (text) => text;
  const pattern = new RegExp(hidden.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(pattern, REDACTED);
}

/** `text` with every secret in `secrets` replaced by {@link REDACTED}. */
export function hideSecrets(text: string, secrets: Iterable<string>): string {
  return secretHider(secrets)(text);
}

/**
 * `value` with `hide` applied to every string inside its arrays and plain objects: a copy where
 * something changed, `value` itself (never modified) where nothing did. Class instances (dates,
 * errors, buffers) pass as they are.
 */
export function redactStrings<T>(value: T, hide: SecretHider): T {
  return walk(value, hide) as T;
}

/** Copies only the arrays and objects on the way to a replaced string. */
function walk(value: unknown, hide: SecretHider): unknown {
  if (typeof value === 'string') return hide(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      const walked = walk(item, hide);
      if (walked !== item) (copy ??= [...value])[index] = walked;
    }
    return copy ?? value;
  }
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    let copy: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(value)) {
      const walked = walk(item, hide);
      if (walked !== item) (copy ??= { ...value })[key] = walked;
    }
    return copy ?? value;
  }
  return value;
}

/**
 * The password of a URL as written and as decoded (a driver may quote either), or nothing when
 * `text` is no URL or has no password.
 */
export function urlPasswords(text: string): string[] {
  if (!text.includes('://')) return [];
  try {
    const { password } = new URL(text);
    if (password === '') return [];
    return [...new Set([password, safeDecode(password)])];
  } catch {
    return [];
  }
}

/** Options of {@link maskUrl}. */
export interface MaskUrlOptions {
  /** Also hide the value of every query parameter (keys stay): tokens travel there too. */
  queryValues?: boolean;
}

/**
 * The URL with its password (and, asked to, its query values) replaced by {@link REDACTED},
 * safe to print and log; other text as it is. The masked URL is built as a string, because the
 * URL setters would percent-encode the marker's brackets.
 */
export function maskUrl(text: string, options: MaskUrlOptions = {}): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not a URL the WHATWG parser accepts: mask anything shaped like `//user:password@`.
    return text.replace(/(\/\/[^/:@]*:)[^@/]*@/, `$1${REDACTED}@`);
  }
  const maskQuery = options.queryValues === true && url.search !== '';
  if (url.password === '' && !maskQuery) return text;
  const credentials =
    url.password !== ''
      ? `${url.username}:${REDACTED}@`
      : url.username !== ''
        ? `${url.username}@`
        : '';
  const search = maskQuery
    ? `?${url.search
        .slice(1)
        .split('&')
        .map((pair) => `${pair.split('=')[0] ?? ''}=${REDACTED}`)
        .join('&')}`
    : url.search;
  const hasAuthority = text.slice(url.protocol.length).startsWith('//');
  const authority = hasAuthority ? `//${credentials}${url.host}` : '';
  return `${url.protocol}${authority}${url.pathname}${search}${url.hash}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
