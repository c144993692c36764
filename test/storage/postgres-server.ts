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

/** Counts the statements pg sends (see {@link recordStatements}). */
export interface StatementRecorder {
  /** The statements sent while `work` runs, by their text, and its result. */
  statementsOf<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }>;
  /** Puts pg's query method back. */
  restore(): void;
}

/**
 * Wraps pg's `Client.prototype.query` to note each statement sent while a recording is on:
 * pg never pipelines, so each is a round trip.
 */
export function recordStatements(): StatementRecorder {
  let recording: string[] | undefined;
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = prototype.query;
  prototype.query = function (this: unknown, ...args: unknown[]): unknown {
    const [statement] = args;
    recording?.push(
      typeof statement === 'string' ? statement : (statement as { text: string }).text,
    );
    return Reflect.apply(query, this, args);
  };
  return {
    async statementsOf(work) {
      const statements: string[] = [];
      recording = statements;
      try {
        return { result: await work(), statements };
      } finally {
        recording = undefined;
      }
    },
    restore() {
      prototype.query = query;
    },
  };
}
