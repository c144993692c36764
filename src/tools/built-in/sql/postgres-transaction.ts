import type pg from 'pg';

/** How a transaction of the SQL tools is run. */
export interface PostgresTransactionOptions {
  readOnly: boolean;
  /** Every statement inside is cancelled by the server past this. */
  statementTimeoutMs: number;
  /** Cancels the running statement (the tool call's signal). */
  signal: AbortSignal;
  /** `false` always rolls back (read-only queries). */
  commit: boolean;
}

/**
 * Runs `work` in one transaction on one pooled connection. The first statement after `BEGIN`
 * sets the timeout and takes the transaction's snapshot (so a later `SET TRANSACTION READ WRITE`
 * is refused); an abort cancels the running statement on the server (`pg_cancel_backend`)
 * rather than leaving it to run on.
 */
export async function withPostgresTransaction<T>(
  pool: pg.Pool,
  options: PostgresTransactionOptions,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  options.signal.throwIfAborted();
  const client = await pool.connect();
  const processId = (client as unknown as { processID: number | null }).processID;
  const cancel = () => {
    if (processId !== null) {
      pool.query('SELECT pg_cancel_backend($1)', [processId]).catch(() => undefined);
    }
  };
  options.signal.addEventListener('abort', cancel, { once: true });
  let ended = false;
  try {
    // The call may have been aborted while waiting for a connection.
    options.signal.throwIfAborted();
    await client.query(options.readOnly ? 'BEGIN TRANSACTION READ ONLY' : 'BEGIN');
    await client.query("SELECT set_config('statement_timeout', $1, true)", [
      String(options.statementTimeoutMs),
    ]);
    const result = await work(client);
    await client.query(options.commit ? 'COMMIT' : 'ROLLBACK');
    ended = true;
    return result;
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    throw error;
  } finally {
    options.signal.removeEventListener('abort', cancel);
    if (ended) {
      client.release();
    } else {
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch {
        // A connection that cannot roll back is closed, not returned to the pool.
        client.release(true);
      }
    }
  }
}
