import { readFileSync } from 'node:fs';

/** The version in package.json (two levels up from `src/cli/` and from `dist/cli/` alike). */
export function packageVersion(): string {
  try {
    const manifest = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
