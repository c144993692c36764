import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The Postgres CI provides. */
export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * True when Postgres answers. When it does not: on CI (`CI=true`) that is a failure, elsewhere
 * the Postgres tests are skipped with a message saying why.
 */
export async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI === 'true') {
      throw new Error(
        `Postgres at ${POSTGRES_URL} does not answer, and CI requires it: ${reason}`,
        {
          cause: error,
        },
      );
    }
    console.warn(`Skipping Postgres tool tests: ${POSTGRES_URL} does not answer (${reason}).`);
    return false;
  }
}

/** A schema of its own for one test, and a pool to set it up and inspect it with. */
export async function freshSchema(): Promise<{
  schema: string;
  pool: pg.Pool;
  drop: () => Promise<void>;
}> {
  const schema = `nightshift_tools_${randomBytes(6).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
  await pool.query(`CREATE SCHEMA ${schema}`);
  return {
    schema,
    pool,
    drop: async () => {
      await pool.query(`DROP SCHEMA ${schema} CASCADE`);
      await pool.end();
    },
  };
}
