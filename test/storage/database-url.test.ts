import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NightshiftError } from '../../src/errors.js';
import { maskUrl, parseDatabaseUrl } from '../../src/storage/index.js';

/** The path of a location that must be SQLite. */
function sqlitePath(url: string, cwd: string): string {
  const location = parseDatabaseUrl(url, cwd);
  if (location.dialect !== 'sqlite') throw new Error(`${url} is not SQLite`);
  return location.path;
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return NightshiftError.isInstance(error) ? error.code : 'not a NightshiftError';
  }
  return undefined;
}

describe('parseDatabaseUrl', () => {
  const cwd = '/srv/nightshift';

  it('resolves sqlite: paths against the working directory', () => {
    expect(parseDatabaseUrl('sqlite:data/agents.db', cwd)).toEqual({
      dialect: 'sqlite',
      path: join(cwd, 'data/agents.db'),
    });
    expect(sqlitePath('sqlite:./.nightshift/nightshift.db', cwd)).toBe(
      join(cwd, '.nightshift/nightshift.db'),
    );
  });

  it('reads sqlite:///absolute paths, :memory:, file: URLs and plain paths', () => {
    expect(sqlitePath('sqlite:///var/lib/nightshift.db', cwd)).toBe('/var/lib/nightshift.db');
    expect(sqlitePath('sqlite::memory:', cwd)).toBe(':memory:');
    expect(sqlitePath('file:///var/lib/nightshift.db', cwd)).toBe('/var/lib/nightshift.db');
    expect(sqlitePath('local/nightshift.db', cwd)).toBe(resolve(cwd, 'local/nightshift.db'));
    expect(sqlitePath('/abs/nightshift.db', cwd)).toBe('/abs/nightshift.db');
  });

  it('recognises Postgres URLs', () => {
    for (const url of ['postgres://user:pw@db/nightshift', 'postgresql://db/nightshift']) {
      expect(parseDatabaseUrl(url, cwd)).toEqual({ dialect: 'postgres', url });
    }
  });

  it('rejects other schemes and empty paths with config_invalid, masking passwords', () => {
    expect(codeOf(() => parseDatabaseUrl('mysql://root:hunter2@db/nightshift'))).toBe(
      'config_invalid',
    );
    expect(() => parseDatabaseUrl('mysql://root:hunter2@db/nightshift')).toThrow(
      /unsupported database URL scheme "mysql:".*root:\[redacted\]@db/,
    );
    expect(() => parseDatabaseUrl('mysql://root:hunter2@db/nightshift')).not.toThrow(/hunter2/);
    expect(codeOf(() => parseDatabaseUrl('sqlite:'))).toBe('config_invalid');
  });
});

describe('maskUrl', () => {
  it('hides the password and keeps the rest', () => {
    const masked = maskUrl('postgres://nightshift:s3cret@db.internal:5432/agents?sslmode=require');
    expect(masked).not.toContain('s3cret');
    expect(masked).toBe('postgres://nightshift:[redacted]@db.internal:5432/agents?sslmode=require');
    expect(maskUrl('redis://:s3cret@cache:6379/0')).toBe('redis://:[redacted]@cache:6379/0');
  });

  it('leaves URLs without a password as they are', () => {
    expect(maskUrl('postgres://db.internal/agents')).toBe('postgres://db.internal/agents');
    expect(maskUrl('sqlite:./nightshift.db')).toBe('sqlite:./nightshift.db');
  });
});
