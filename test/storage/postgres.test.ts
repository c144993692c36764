import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NightshiftError } from '../../src/errors.js';
import {
  compareEventIds,
  maskUrl,
  type EventLog,
  type NightshiftEvent,
  type Store,
} from '../../src/storage/index.js';
import {
  createPostgresEventLog,
  createPostgresStore,
  type PostgresEventLogOptions,
} from '../../src/storage/postgres/index.js';
import { openDatabase } from '../../src/storage/postgres/connection.js';
import { describeAgentStore } from './contracts/agent-store.js';
import { describeApprovalStore } from './contracts/approval-store.js';
import { describeBudgetStore } from './contracts/budget-store.js';
import { describeEventLog } from './contracts/event-log.js';
import {
  agentMessage,
  agentRecord,
  minute,
  runRecord,
  WAIT,
  type StoreFactory,
} from './contracts/fixtures.js';
import { describeLeaseStore } from './contracts/lease-store.js';
import { describeRunPhases } from './contracts/run-phases.js';
import { describeMessageStore } from './contracts/message-store.js';
import { describeRunStore } from './contracts/run-store.js';
import { postgresTestUrl, postgresUnavailableReason, uniqueName } from './postgres-server.js';

const url = postgresTestUrl();
const unavailable = await postgresUnavailableReason(url);

if (unavailable !== undefined) {
  const why = `no Postgres server answers at ${maskUrl(url)} (${unavailable})`;
  if (process.env.CI === 'true') {
    describe('postgres backend', () => {
      it('has a server to test against (a skipped backend suite fails CI)', () => {
        throw new Error(`${why}; set DATABASE_URL or start Postgres`);
      });
    });
  } else {
    console.log(`skipped the postgres storage suites: ${why}`);
  }
}

const describePostgres = unavailable === undefined ? describe : describe.skip;

/** Connections of the test itself, apart from the stores' (which the tests may terminate). */
const admin = new pg.Pool({
  connectionString: url,
  application_name: 'nightshift_test_admin',
  max: 3,
});
admin.on('error', () => undefined);

function quoted(schema: string): string {
  return pg.escapeIdentifier(schema);
}

async function dropSchema(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS ${quoted(schema)} CASCADE`);
}

/** Server processes of this test's connections (by their unique application name). */
async function backendsOf(
  applicationName: string,
  which: 'all' | 'listening' | 'waiting for a lock' = 'all',
): Promise<number[]> {
  const condition = {
    all: 'true',
    listening: "query LIKE 'LISTEN %'",
    'waiting for a lock': "wait_event_type = 'Lock'",
  }[which];
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND ${condition} ORDER BY pid`,
    [applicationName],
  );
  return rows.map((row) => row.pid);
}

/** Terminates server processes and waits until they are gone (the timeout form needs Postgres 14+). */
async function terminate(pids: readonly number[]): Promise<void> {
  await admin.query('SELECT pg_terminate_backend(pid, 5000) FROM unnest($1::int[]) AS pid', [pids]);
}

function messagesOf(events: readonly NightshiftEvent[]): string[] {
  return events.map((event) => (event.payload as { message: string }).message);
}

function errorCode(error: unknown): string | undefined {
  return NightshiftError.isInstance(error) ? error.code : undefined;
}

describePostgres('postgres', () => {
  afterAll(async () => {
    await admin.end();
  });

  const storeFactory: StoreFactory = async (options = {}) => {
    const schema = uniqueName('nightshift_test');
    const store = createPostgresStore({ url, namespace: schema, now: options.now });
    const siblings: Store[] = [];
    return {
      store,
      cleanup: async () => {
        for (const sibling of siblings) await sibling.close();
        await store.close();
        await dropSchema(schema);
      },
      sibling: () => {
        const sibling = createPostgresStore({ url, namespace: schema, now: options.now });
        siblings.push(sibling);
        return sibling;
      },
    };
  };

  describeAgentStore('postgres', storeFactory);
  describeRunPhases('postgres', storeFactory);
  describeRunStore('postgres', storeFactory);
  describeMessageStore('postgres', storeFactory);
  describeLeaseStore('postgres', storeFactory);
  describeBudgetStore('postgres', storeFactory);
  describeApprovalStore('postgres', storeFactory);
  describeEventLog('postgres', async (options) => {
    const schema = uniqueName('nightshift_test');
    const log = createPostgresEventLog({ url, namespace: schema, ...options });
    return {
      log,
      cleanup: async () => {
        await log.close();
        await dropSchema(schema);
      },
    };
  });

  describe('postgres backend', () => {
    let schema: string;
    /** Names this test's connections, so it terminates its own and never another's. */
    let applicationName: string;
    const opened: (Store | EventLog)[] = [];

    /** A store with a pool of its own, as another process would have. */
    function openStore(): Store {
      const store = createPostgresStore({
        url,
        schema,
        pool: { shared: false, applicationName },
      });
      opened.push(store);
      return store;
    }

    /** An event log with a pool of its own, as another process would have. */
    function openLog(options: Partial<PostgresEventLogOptions> = {}): EventLog {
      const log = createPostgresEventLog({
        url,
        schema,
        pool: { shared: false, applicationName },
        ...options,
      });
      opened.push(log);
      return log;
    }

    beforeEach(() => {
      schema = uniqueName('nightshift_test');
      applicationName = uniqueName('nightshift_test');
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((item) => item.close()));
      await dropSchema(schema);
    });

    it('creates its schema and records the version once, also when processes start together', async () => {
      const stores = [openStore(), openStore(), openStore()];
      await Promise.all(stores.map((store) => store.agents.list()));
      const { rows } = await admin.query(
        `SELECT version FROM ${quoted(schema)}.nightshift_migrations ORDER BY version`,
      );
      expect(rows).toEqual([
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
        { version: 5 },
        { version: 6 },
        { version: 7 },
        { version: 8 },
        { version: 9 },
      ]);
      expect(stores[0]!.description).toBe(`${maskUrl(url)} (schema ${schema})`);
    });

    it('refuses a schema newer than this version knows', async () => {
      await openStore().agents.list();
      await admin.query(
        `INSERT INTO ${quoted(schema)}.nightshift_migrations (version, name) VALUES (999, 'future')`,
      );
      const error: unknown = await openStore()
        .agents.list()
        .catch((caught: unknown) => caught);
      expect(errorCode(error)).toBe('storage_unavailable');
      expect((error as Error).message).toMatch(/newer than/);
    });

    it('refuses a schema name it cannot use', () => {
      expect(() => createPostgresStore({ url, schema: 'Robert"); DROP TABLE agents' })).toThrow(
        expect.objectContaining({ code: 'config_invalid' }),
      );
    });

    it('shares one state between processes and loses no counter change across them', async () => {
      const [first, second] = [openStore(), openStore()];
      await first.agents.insert(agentRecord('alpha'));
      expect(await second.agents.get('alpha')).toEqual(agentRecord('alpha'));
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          (index % 2 === 0 ? first : second).agents.updateStats('alpha', { skipped: 1 }),
        ),
      );
      expect((await first.agents.get('alpha'))?.stats.skip_count).toBe(20);
    });

    it('lets exactly one of many processes racing to claim a run win', async () => {
      const stores = [openStore(), openStore()];
      const run = runRecord('alpha', minute(0));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          stores[index % 2]!.runs.claim({ ...run, lease_owner: `worker-${index}` }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await stores[1]!.runs.get(run.run_id)).toMatchObject({
        lease_owner: `worker-${results.indexOf(true)}`,
      });
    });

    it('grants a lease to exactly one of many processes racing for it, and fences the rest', async () => {
      const stores = [openStore(), openStore(), openStore()];
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          stores[index % 3]!.leases.acquire('agent:alpha', `worker-${index}`, 60_000),
        ),
      );
      const granted = results.filter((lease) => lease !== undefined);
      expect(granted).toHaveLength(1);
      const lease = granted[0]!;
      expect(await stores[2]!.leases.get('agent:alpha')).toEqual(lease);
      expect(await stores[0]!.leases.release('agent:alpha', lease.holder, lease.token)).toBe(true);
      const next = await stores[1]!.leases.acquire('agent:alpha', 'worker-new', 60_000);
      expect(next!.token).toBeGreaterThan(lease.token);
      expect(await stores[2]!.leases.renew('agent:alpha', lease.holder, lease.token, 1)).toBe(
        false,
      );
    });

    it("hands a subscriber another process's events once each and in order, also 200 appended at once", async () => {
      // Polling too slow to matter: only NOTIFY (and the catch-up after LISTEN) can deliver.
      const listening = openLog({ pollIntervalMs: 60_000 });
      const elsewhere = openLog();
      const heard: NightshiftEvent[] = [];
      listening.subscribe((event) => heard.push(event));
      // Its own append settles the subscription's starting point first.
      const start = await listening.append(agentMessage('alpha', 'start'));

      await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          elsewhere.append(agentMessage(index % 2 === 0 ? 'alpha' : 'bravo', `m${index}`)),
        ),
      );
      const end = await elsewhere.append(agentMessage('alpha', 'end'));
      await expect.poll(() => heard.at(-1)?.id, WAIT).toBe(end.id);

      expect(heard).toHaveLength(202);
      expect(heard[0]).toEqual(start);
      expect(heard).toEqual(await listening.read({ limit: 1_000 }));
      for (let index = 1; index < heard.length; index += 1) {
        expect(compareEventIds(heard[index]!.id, heard[index - 1]!.id)).toBeGreaterThan(0);
      }
    });

    it('hands a late subscriber only what was appended after it subscribed, across processes', async () => {
      const listening = openLog({ pollIntervalMs: 60_000 });
      const elsewhere = openLog();
      const early: NightshiftEvent[] = [];
      const late: NightshiftEvent[] = [];
      listening.subscribe((event) => early.push(event));
      await listening.append(agentMessage('alpha', 'first'));
      await elsewhere.append(agentMessage('alpha', 'before the late one'));
      listening.subscribe((event) => late.push(event));
      await listening.append(agentMessage('alpha', 'after both'));
      await expect.poll(() => early.length, WAIT).toBe(3);
      await expect.poll(() => late.length, WAIT).toBe(1);
      expect(messagesOf(early)).toEqual(['first', 'before the late one', 'after both']);
      expect(messagesOf(late)).toEqual(['after both']);
    });

    it('reconnects a LISTEN connection the server dropped, and still hands over every event once', async () => {
      const errors: unknown[] = [];
      const listening = openLog({ pollIntervalMs: 60_000, onError: (error) => errors.push(error) });
      const elsewhere = openLog();
      const heard: NightshiftEvent[] = [];
      listening.subscribe((event) => heard.push(event));
      await listening.append(agentMessage('alpha', 'start'));
      await expect.poll(() => backendsOf(applicationName, 'listening'), WAIT).toHaveLength(1);
      const [dropped] = await backendsOf(applicationName, 'listening');

      await terminate([dropped!]);
      // Appended while the connection is down or coming back: only the catch-up brings them.
      for (let index = 0; index < 5; index += 1) {
        await elsewhere.append(agentMessage('alpha', `while down ${index}`));
      }
      await expect
        .poll(async () => (await backendsOf(applicationName, 'listening')).includes(dropped!), WAIT)
        .toBe(false);
      await expect.poll(() => backendsOf(applicationName, 'listening'), WAIT).toHaveLength(1);
      for (let index = 0; index < 5; index += 1) {
        await elsewhere.append(agentMessage('alpha', `after ${index}`));
      }
      const end = await elsewhere.append(agentMessage('alpha', 'end'));
      await expect.poll(() => heard.at(-1)?.id, WAIT).toBe(end.id);

      expect(messagesOf(heard)).toEqual([
        'start',
        ...[0, 1, 2, 3, 4].map((index) => `while down ${index}`),
        ...[0, 1, 2, 3, 4].map((index) => `after ${index}`),
        'end',
      ]);
      expect(errors.map(errorCode)).toContain('storage_unavailable');
    });

    it('replaces pooled connections the server dropped: the next operations succeed', async () => {
      const store = openStore();
      await store.agents.insert(agentRecord('alpha'));
      // Several connections in the pool, all idle once these are done.
      await Promise.all(Array.from({ length: 5 }, () => store.runs.list('alpha')));
      const pids = await backendsOf(applicationName);
      expect(pids.length).toBeGreaterThan(1);

      await terminate(pids);
      expect((await store.agents.get('alpha'))?.agent_id).toBe('alpha');
      expect(await store.agents.update('alpha', { state: 'active' })).toMatchObject({ version: 2 });
      expect(await store.runs.claim(runRecord('alpha', minute(0)))).toBe(true);
      expect(await backendsOf(applicationName)).not.toContain(pids[0]);
    });

    it('repeats a transaction whose connection died before COMMIT, applying it once', async () => {
      const store = openStore();
      await store.agents.insert(agentRecord('alpha'));
      // The stores write by compare-and-set, without transactions; the event log batches in them.
      const database = openDatabase({ url, schema, pool: { shared: false, applicationName } });
      const agents = database.table('agents');
      const blocker = await admin.connect();
      let transaction: Promise<unknown> | undefined;
      try {
        try {
          await blocker.query('BEGIN');
          await blocker.query(`SELECT * FROM ${agents} WHERE agent_id = 'alpha' FOR UPDATE`);
          transaction = database.transaction(async (client) => {
            await client.query(`SELECT * FROM ${agents} WHERE agent_id = 'alpha' FOR UPDATE`);
            await client.query(
              `UPDATE ${agents} SET version = version + 1 WHERE agent_id = 'alpha'`,
            );
          });
          await expect
            .poll(() => backendsOf(applicationName, 'waiting for a lock'), WAIT)
            .toHaveLength(1);
          await terminate(await backendsOf(applicationName));
        } finally {
          await blocker.query('ROLLBACK');
          blocker.release();
        }
        await transaction;
      } finally {
        await database.release();
      }
      expect(await store.agents.get('alpha')).toMatchObject({ version: 2 });
    });

    it('fails an update whose connection dies while it waits for the row, applying nothing', async () => {
      const store = openStore();
      await store.agents.insert(agentRecord('alpha'));
      const blocker = await admin.connect();
      let update: Promise<unknown> | undefined;
      try {
        await blocker.query('BEGIN');
        await blocker.query(
          `SELECT * FROM ${quoted(schema)}.agents WHERE agent_id = 'alpha' FOR UPDATE`,
        );
        update = store.agents.update('alpha', { state: 'active' }).catch((error: unknown) => error);
        await expect
          .poll(() => backendsOf(applicationName, 'waiting for a lock'), WAIT)
          .toHaveLength(1);
        await terminate(await backendsOf(applicationName));
      } finally {
        await blocker.query('ROLLBACK');
        blocker.release();
      }
      // The compare-and-set write was in flight: its effect is unknown in general (the reply
      // was lost), so it is reported, not repeated. Here it never took effect.
      expect(errorCode(await update)).toBe('storage_unavailable');
      expect(await store.agents.get('alpha')).toMatchObject({ state: 'created', version: 1 });
      expect(await store.agents.update('alpha', { state: 'active' })).toMatchObject({ version: 2 });
    });

    it('fails a write in flight when its connection dies with storage_unavailable, and recovers', async () => {
      const store = openStore();
      await store.agents.list();
      const blocker = await admin.connect();
      let insert: Promise<unknown> | undefined;
      try {
        // An uncommitted insert of the same id makes the store's insert wait in flight.
        await blocker.query('BEGIN');
        await blocker.query(
          `INSERT INTO ${quoted(schema)}.agents (agent_id, definition, state, created_at, updated_at, version, stats)
           VALUES ('alpha', '{}', 'created', '', '', 1, '{}')`,
        );
        insert = store.agents.insert(agentRecord('alpha')).catch((error: unknown) => error);
        await expect
          .poll(() => backendsOf(applicationName, 'waiting for a lock'), WAIT)
          .toHaveLength(1);
        await terminate(await backendsOf(applicationName));
      } finally {
        await blocker.query('ROLLBACK');
        blocker.release();
      }
      const error = await insert;
      // Its effect is unknown in general (the reply was lost), so it is reported, not repeated.
      expect(errorCode(error)).toBe('storage_unavailable');
      expect((error as Error).message).toContain(maskUrl(url));
      expect(await store.agents.insert(agentRecord('alpha'))).toBe(true);
    });

    it('runs prepared statements as text once a connection lacks them, each applied once', async () => {
      await openStore().agents.insert(agentRecord('alpha'));
      const database = openDatabase({
        url,
        schema,
        pool: { shared: false, applicationName, max: 1 },
      });
      try {
        const agents = database.table('agents');
        const bump = database.prepare(
          `UPDATE ${agents} SET version = version + 1 WHERE agent_id = $1 RETURNING version`,
        );
        expect((await database.write(bump, ['alpha'])).rows).toEqual([{ version: 2 }]);
        // As a pooler in transaction mode does: the next statement runs on a server
        // connection that never saw the prepared one.
        const client = await database.pool.connect();
        await client.query('DEALLOCATE ALL');
        client.release();
        expect((await database.write(bump, ['alpha'])).rows).toEqual([{ version: 3 }]);
        expect((await database.write(bump, ['alpha'])).rows).toEqual([{ version: 4 }]);
      } finally {
        await database.release();
      }
    });

    it('fails with storage_unavailable naming the URL, password masked, when no server answers', async () => {
      const unreachable = 'postgres://user:secret@127.0.0.1:1/x';
      const store = createPostgresStore({ url: unreachable, schema });
      const log = createPostgresEventLog({ url: unreachable, schema });
      opened.push(store, log);
      expect(store.description).toBe(`postgres://user:[redacted]@127.0.0.1:1/x (schema ${schema})`);
      for (const attempt of [
        () => store.agents.get('alpha'),
        () => store.runs.claim(runRecord('alpha', minute(0))),
        () => store.leases.acquire('agent:alpha', 'worker-1', 1_000),
        () => log.append(agentMessage('alpha', 'lost')),
      ]) {
        const error: unknown = await attempt().catch((caught: unknown) => caught);
        expect(errorCode(error)).toBe('storage_unavailable');
        expect((error as Error).message).toContain('postgres://user:[redacted]@127.0.0.1:1/x');
        expect((error as Error).message).not.toContain('secret');
      }
    });
  });
});
