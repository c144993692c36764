import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { gatedModel } from './gated-model.js';
import { makeService, temporaryDatabase, testAgent, testProvider } from './service-fixtures.js';

/** Changes the agent's overlap lease in the SQLite file, as a store outage past its TTL leaves it. */
function setOverlapLease(url: string, agentId: string, holder: string | null, expiresAt: number) {
  const database = new Database(url.slice('sqlite:'.length));
  try {
    database
      .prepare('UPDATE leases SET holder = ?, expires_at = ? WHERE key = ?')
      .run(holder, expiresAt, `overlap:${agentId}`);
  } finally {
    database.close();
  }
}

describe('a store outage under a run is an infrastructure fault, not a cancellation', () => {
  it('takes back an overlap lease that expired with nobody else holding it, and the run goes on', async () => {
    const url = temporaryDatabase();
    const gate = gatedModel();
    const service = makeService({ url, providers: testProvider(gate.model), leaseTtlMs: 600 });
    await service.startManager();
    await service.create(testAgent('steady'));
    const pending = service.runNow('steady', { wait: true });
    await waitFor(() => gate.waiting === 1, { what: 'the model call to start' });
    // The lease ran out while the store could not be reached; no one took it meanwhile.
    setOverlapLease(url, 'steady', null, 0);
    const other = await service.listRuns('steady');
    expect(other).toHaveLength(1);
    // Renewal comes every 200 ms: wait until it has taken the lease back.
    const database = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      await waitFor(
        () =>
          (
            database.prepare('SELECT holder FROM leases WHERE key = ?').get('overlap:steady') as
              { holder: string | null } | undefined
          )?.holder?.endsWith(other[0]!.run_id),
        { what: 'the lease to be taken back' },
      );
    } finally {
      database.close();
    }
    gate.openForever();
    const run = await pending;
    expect(run.status).toBe('completed');
  });

  it('ends the run interrupted, saying why, when another run holds the lease by then', async () => {
    const url = temporaryDatabase();
    const gate = gatedModel();
    const service = makeService({ url, providers: testProvider(gate.model), leaseTtlMs: 600 });
    await service.startManager();
    await service.create(testAgent('displaced'));
    const pending = service.runNow('displaced', { wait: true });
    await waitFor(() => gate.waiting === 1, { what: 'the model call to start' });
    setOverlapLease(url, 'displaced', 'another-process/its-run', Date.now() + 60_000);
    const run = await pending;
    expect(run.status).toBe('interrupted');
    expect(run.error?.code).toBe('interrupted');
    expect(run.error?.message).toContain('another-process/its-run holds it now');
    expect((await service.getAgentStatus('displaced')).last_run_status).toBe('interrupted');
  });
});
