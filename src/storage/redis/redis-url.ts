import { NightshiftError } from '../../errors.js';
import { maskUrl } from '../../shared/redaction.js';

/** The Redis used when neither an URL nor `REDIS_URL` is given. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The URL to use: the one given, else `REDIS_URL`, else {@link DEFAULT_REDIS_URL}. */
export function resolveRedisUrl(
  url: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return url || env.REDIS_URL || DEFAULT_REDIS_URL;
}

/** Throws `config_invalid`, naming the field and masking any password, unless `url` is a Redis URL. */
export function checkRedisUrl(url: string): void {
  if (/^rediss?:\/\//i.test(url.trim())) return;
  const message = `"${maskUrl(url)}" is not a Redis URL (use redis://[:password@]host[:port][/db] or rediss://…)`;
  throw new NightshiftError('config_invalid', message, { fields: [{ path: 'url', message }] });
}
