import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { errorMessage } from '../../src/errors.js';

/** The server the Postgres tests use: `DATABASE_URL` when it names Postgres, else the local one. */
export function postgresTestUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL ?? '';
  return url.startsWith('postgres') ? url : 'postgres://postgres@127.0.0.1:5432/test';
}

/** Why the server at `url` cannot be used, or undefined when it answers. */
export async function postgresUnavailableReason(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return errorMessage(error) || 'no answer';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A schema (or application) name no other test uses: `prefix_` and random hex. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}
