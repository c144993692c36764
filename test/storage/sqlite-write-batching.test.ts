import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NightshiftError } from '../../src/errors.js';
import {
  compareEventIds,
  createSqliteEventLog,
  createSqliteStore,
  type EventLog,
  type NightshiftEvent,
  type Store,
  type StoredMessage,
} from '../../src/storage/index.js';
import { createWriteBatcher, MAX_BATCH_WRITES } from '../../src/storage/sqlite/write-batch.js';
import { agentMessage, agentRecord, minute, runRecord, step } from './contracts/fixtures.js';
import { temporaryDirectory } from './temporary-directory.js';

function message(content: string): StoredMessage {
  return { role: 'user', content };
}

function messagesOf(events: readonly NightshiftEvent[]): string[] {
  return events.map((event) => (event.payload as { message: string }).message);
}

/** The reason a settled promise was rejected with, or undefined when it was fulfilled. */
function reasonOf(result: PromiseSettledResult<unknown>): unknown {
  return result.status === 'rejected' ? result.reason : undefined;
}

/** The run ids one process of sqlite-race-process.ts won, by kind. */
type RaceWins = Record<'claims' | 'leases' | 'takeovers', string[]>;

/** How SQLite refuses a row holding the word `poison` (see `poison`). */
const POISONED = /poisoned/;

describe('sqlite write batching', () => {
  let directory: ReturnType<typeof temporaryDirectory>;
  let path: string;
  /** Everything a test opened, closed after it whatever happened. */
  const opened: { close(): unknown }[] = [];

  /** A store on this process's shared connection, or on one of its own (as another process). */
  function openStore(options: { shared?: boolean } = {}): Store {
    const store = createSqliteStore({ path, sharedConnection: options.shared ?? true });
    opened.push(store);
    return store;
  }

  /** An event log; on the shared connection its appends batch with the stores' writes. */
  function openLog(options: { shared?: boolean } = {}): EventLog {
    const log = createSqliteEventLog({
      path,
      pollIntervalMs: 60_000,
      sharedConnection: options.shared ?? true,
    });
    opened.push(log);
    return log;
  }

  /** A plain connection of the test's own, reading what has been committed. */
  function openReader(): Database.Database {
    const reader = new Database(path, { readonly: true });
    opened.push(reader);
    return reader;
  }

  /** Makes SQLite itself refuse runs, messages and events holding the word `poison`. */
  function poison(): void {
    const database = new Database(path);
    for (const [table, column] of [
      ['runs', 'query'],
      ['messages', 'message'],
      ['events', 'payload'],
    ] as const) {
      database.exec(`
        CREATE TRIGGER poison_${table} BEFORE INSERT ON ${table}
        WHEN NEW.${column} LIKE '%poison%'
        BEGIN SELECT RAISE(ABORT, 'poisoned ${table}'); END
      `);
    }
    database.close();
  }

  beforeEach(() => {
    directory = temporaryDirectory();
    path = join(directory.path, 'nightshift.db');
  });
  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.close();
    directory.remove();
  });

  it('gives each of many writes issued in one turn its own result; only the failing ones fail', async () => {
    const store = openStore();
    const log = openLog();
    poison();
    await store.agents.insert(agentRecord('alpha'));
    const held = runRecord('alpha', minute(0), { status: 'running', lease_owner: 'worker-1' });
    await store.runs.claim(held);
    const fresh = [1, 2, 3].map((index) => runRecord('alpha', minute(index)));

    // Every call below is made in this one turn; none is awaited before the last is made.
    const claims = Promise.allSettled([
      ...fresh.map((run) => store.runs.claim(run)),
      store.runs.claim({ ...fresh[0]!, lease_owner: 'late' }),
      store.runs.claim(held),
      store.runs.claim(runRecord('alpha', minute(9), { query: 'poison' })),
    ]);
    // Both conditions hold when the calls are made; the second is judged after the first applies.
    const updates = Promise.all([
      store.runs.update(
        held.run_id,
        { status: 'completed' },
        { lease_owner: 'worker-1', status: ['running'] },
      ),
      store.runs.update(held.run_id, { status: 'failed' }, { status: ['running'] }),
    ]);
    const steps = Promise.allSettled([
      store.runs.appendStep(step(held.run_id, 0)),
      store.runs.appendStep(step(held.run_id, 0, { tool_name: 'again' })),
      store.runs.appendStep(step(held.run_id, 1)),
    ]);
    const events = Promise.allSettled([
      log.append(agentMessage('alpha', 'one')),
      log.append(agentMessage('alpha', 'poison')),
      log.append(agentMessage('alpha', 'two')),
    ]);
    const messages = Promise.allSettled([
      store.messages.append('kept', [message('a'), message('b')]),
      store.messages.append('dropped', [message('c'), message('poison'), message('d')]),
      store.messages.append('kept', [message('e')]),
    ]);
    const leases = Promise.all([
      store.leases.acquire('agent:alpha', 'worker-1', 60_000),
      store.leases.acquire('agent:alpha', 'worker-2', 60_000),
    ]);
    const stats = Promise.all([
      store.agents.updateStats('alpha', { skipped: 1 }),
      store.agents.updateStats('alpha', { skipped: 1 }),
    ]);

    const claimed = await claims;
    expect(
      claimed.slice(0, 5).map((result) => result.status === 'fulfilled' && result.value),
    ).toEqual([true, true, true, false, false]);
    expect(reasonOf(claimed[5]!)).toMatchObject({ message: expect.stringMatching(POISONED) });

    const [completed, failedLate] = await updates;
    expect(completed).toMatchObject({ run_id: held.run_id, status: 'completed' });
    expect(failedLate).toBeUndefined();

    const stepResults = await steps;
    expect(stepResults.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const duplicate = reasonOf(stepResults[1]);
    expect(NightshiftError.isInstance(duplicate) && duplicate.code).toBe('invalid_state');

    const eventResults = await events;
    expect(eventResults.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(reasonOf(eventResults[1])).toMatchObject({ message: expect.stringMatching(POISONED) });
    const [one, , two] = eventResults.map((result) =>
      result.status === 'fulfilled' ? result.value : undefined,
    );
    expect(compareEventIds(two!.id, one!.id)).toBeGreaterThan(0);

    const messageResults = await messages;
    expect(messageResults.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);

    const [lease, refused] = await leases;
    expect(lease).toMatchObject({ holder: 'worker-1' });
    expect(refused).toBeUndefined();
    expect((await stats)[1]?.stats.skip_count).toBe(2);

    // What was stored, as another connection sees it.
    const other = openStore({ shared: false });
    expect(await other.runs.get(fresh[0]!.run_id)).toEqual(fresh[0]);
    expect(await other.runs.get(held.run_id)).toMatchObject({ status: 'completed' });
    expect(await other.runs.list('alpha')).toHaveLength(4);
    expect(await other.runs.listSteps(held.run_id)).toEqual([
      step(held.run_id, 0),
      step(held.run_id, 1),
    ]);
    expect(messagesOf(await openLog({ shared: false }).read())).toEqual(['one', 'two']);
    expect(await other.messages.list('kept')).toEqual([message('a'), message('b'), message('e')]);
    expect(await other.messages.list('dropped')).toEqual([]);
    expect(await other.leases.get('agent:alpha')).toEqual(lease);
    expect((await other.agents.get('alpha'))?.stats.skip_count).toBe(2);
  });

  it('removes all or none of an agent’s runs and steps when its delete fails in a batch', async () => {
    const store = openStore();
    const kept = runRecord('alpha', minute(0));
    const undeletable = runRecord('alpha', minute(1), { query: 'undeletable' });
    await Promise.all([store.runs.claim(kept), store.runs.claim(undeletable)]);
    await store.runs.appendStep(step(kept.run_id, 0));
    const database = new Database(path);
    database.exec(`
      CREATE TRIGGER undeletable_runs BEFORE DELETE ON runs WHEN OLD.query = 'undeletable'
      BEGIN SELECT RAISE(ABORT, 'undeletable run'); END
    `);
    database.close();

    const [deleted, claimed] = await Promise.allSettled([
      store.runs.deleteByAgent('alpha'),
      store.runs.claim(runRecord('beta', minute(0))),
    ]);
    expect(reasonOf(deleted)).toMatchObject({ message: 'undeletable run' });
    expect(claimed).toEqual({ status: 'fulfilled', value: true });
    expect(await store.runs.list('alpha')).toHaveLength(2);
    expect(await store.runs.listSteps(kept.run_id)).toEqual([step(kept.run_id, 0)]);
  });

  it('applies the writes of one turn in the order they were made', async () => {
    const store = openStore();
    const early = runRecord('alpha', minute(0));
    const late = runRecord('alpha', minute(1));
    const [updatedBeforeClaim, claimedEarly, updatedAfterClaim, claimedLate] = await Promise.all([
      store.runs.update(late.run_id, { status: 'running' }),
      store.runs.claim(early),
      store.runs.update(early.run_id, { status: 'running' }),
      store.runs.claim(late),
    ]);
    expect(updatedBeforeClaim).toBeUndefined();
    expect(claimedEarly).toBe(true);
    expect(updatedAfterClaim).toMatchObject({ status: 'running' });
    expect(claimedLate).toBe(true);
    expect(await store.runs.get(late.run_id)).toMatchObject({ status: 'pending' });
  });

  it('lets a read made right after a write see it, before the write has resolved', async () => {
    const store = openStore();
    const log = openLog();
    const run = runRecord('alpha', minute(0));
    const writes: Promise<unknown>[] = [];
    const write = (call: Promise<unknown>): void => void writes.push(call);

    write(store.agents.insert(agentRecord('alpha')));
    expect(await store.agents.get('alpha')).toEqual(agentRecord('alpha'));
    write(store.agents.updateStats('alpha', { skipped: 1 }));
    expect((await store.agents.list())[0]?.stats.skip_count).toBe(1);
    write(store.agents.update('alpha', { state: 'paused', pause_reason: 'maintenance' }));
    expect(await store.agents.get('alpha')).toMatchObject({ state: 'paused', version: 2 });

    write(store.runs.claim(run));
    expect(await store.runs.get(run.run_id)).toEqual(run);
    write(store.runs.update(run.run_id, { status: 'running' }));
    expect(await store.runs.list('alpha', { status: 'running' })).toHaveLength(1);
    expect(await store.runs.listUnfinished()).toMatchObject([{ status: 'running' }]);
    write(store.runs.appendStep(step(run.run_id, 0)));
    expect(await store.runs.listSteps(run.run_id)).toEqual([step(run.run_id, 0)]);
    write(store.runs.updateStep(run.run_id, '1.0', { state: 'completed' }));
    expect(await store.runs.listSteps(run.run_id)).toMatchObject([{ state: 'completed' }]);

    write(store.messages.append('session', [message('hello')]));
    expect(await store.messages.list('session', { limit: 1 })).toEqual([message('hello')]);
    write(store.messages.clear('session'));
    expect(await store.messages.list('session')).toEqual([]);

    write(store.leases.acquire('agent:alpha', 'worker-1', 60_000));
    const lease = await store.leases.get('agent:alpha');
    expect(lease).toMatchObject({ holder: 'worker-1' });
    write(store.leases.release('agent:alpha', 'worker-1', lease!.token));
    expect(await store.leases.get('agent:alpha')).toBeUndefined();

    write(log.append(agentMessage('alpha', 'hello')));
    expect(messagesOf(await log.read({ agent_id: 'alpha' }))).toEqual(['hello']);

    write(store.runs.deleteByAgent('alpha'));
    expect(await store.runs.get(run.run_id)).toBeUndefined();
    expect(await store.runs.listSteps(run.run_id)).toEqual([]);
    write(store.agents.delete('alpha'));
    expect(await store.agents.get('alpha')).toBeUndefined();

    const results = await Promise.all(writes);
    expect(results.at(-1)).toBe(true);
  });

  it('hands a new subscriber only the appends made after it subscribed, even if not yet committed', async () => {
    const log = openLog();
    const heard: string[] = [];
    const before = log.append(agentMessage('alpha', 'before'));
    log.subscribe((event) => heard.push(messagesOf([event])[0]!));
    await log.append(agentMessage('alpha', 'after'));
    await before;
    expect(heard).toEqual(['after']);
  });

  it('lets one of two connections on a file win each claim, lease and compare-and-set', async () => {
    const racers = ['first', 'second'].map((name) => ({
      name,
      store: openStore({ shared: false }),
    }));
    const runs = Array.from({ length: 100 }, (_, index) => runRecord('alpha', minute(index)));

    // Claims and leases of the same ids in the same turn, one batch per connection.
    const claimed = await Promise.all(
      runs.flatMap((run) =>
        racers.map(({ name, store }) => store.runs.claim({ ...run, lease_owner: name })),
      ),
    );
    const leased = await Promise.all(
      runs.flatMap((run) =>
        racers.map(({ name, store }) => store.leases.acquire(`lease:${run.run_id}`, name, 60_000)),
      ),
    );
    // Each connection tries to take each run over from both possible owners: one of four wins.
    const takenOver = await Promise.all(
      runs.flatMap((run) =>
        racers.flatMap(({ name, store }) =>
          racers.map((owner) =>
            store.runs.update(
              run.run_id,
              { lease_owner: `${name}-took` },
              { lease_owner: owner.name },
            ),
          ),
        ),
      ),
    );

    for (const [index, run] of runs.entries()) {
      const claims = claimed.slice(index * 2, index * 2 + 2);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(leased.slice(index * 2, index * 2 + 2).filter(Boolean)).toHaveLength(1);
      const takeovers = takenOver.slice(index * 4, index * 4 + 4).filter(Boolean);
      expect(takeovers).toHaveLength(1);
      expect(await racers[1]!.store.runs.get(run.run_id)).toMatchObject({
        lease_owner: takeovers[0]!.lease_owner,
      });
    }
  });

  it('lets one of two processes on a file win each claim, lease and compare-and-set, and lose no count', async () => {
    // The file, its schema and the agent whose skips both count exist before the race.
    const setup = createSqliteStore({ path });
    await setup.agents.insert(agentRecord('alpha'));
    await setup.close();
    const ids = 300;
    // Both processes start racing at once, after both have loaded.
    const start = Date.now() + 3_000;
    const race = async (name: string): Promise<RaceWins> => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', resolve(import.meta.dirname, 'sqlite-race-process.ts')],
        {
          env: {
            ...process.env,
            NIGHTSHIFT_RACE_NAME: name,
            NIGHTSHIFT_RACE_PATH: path,
            NIGHTSHIFT_RACE_IDS: String(ids),
            NIGHTSHIFT_RACE_START: String(start),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      let errors = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, errors).toBe(0);
      return JSON.parse(output) as RaceWins;
    };
    const [first, second] = await Promise.all([race('first'), race('second')]);

    const all = Array.from({ length: ids }, (_, index) => runRecord('alpha', minute(index)).run_id);
    for (const kind of ['claims', 'leases', 'takeovers'] as const) {
      expect([...first[kind], ...second[kind]].sort(), kind).toEqual([...all].sort());
    }
    const reader = openReader();
    const owners = reader
      .prepare<[], { lease_owner: string }>('SELECT lease_owner FROM runs')
      .all()
      .map((row) => row.lease_owner);
    expect(owners).toHaveLength(ids);
    expect(owners.every((owner) => owner.endsWith('-took'))).toBe(true);
    const stats = reader.prepare<[], { stats: string }>('SELECT stats FROM agents').get();
    expect(JSON.parse(stats!.stats)).toMatchObject({ skip_count: 2 * ids });
  }, 30_000);

  it('resolves agent writes only once another connection can read them', async () => {
    const store = openStore({ shared: false });
    const reader = openReader();
    const stateOf = (agentId: string) =>
      reader
        .prepare<[string], { state: string }>('SELECT state FROM agents WHERE agent_id = ?')
        .get(agentId)?.state;

    // A run write in the same turn shares the durable batch.
    const run = runRecord('alpha', minute(0));
    const [inserted, claimed] = await Promise.all([
      store.agents.insert(agentRecord('alpha')),
      store.runs.claim(run),
    ]);
    expect([inserted, claimed]).toEqual([true, true]);
    expect(stateOf('alpha')).toBe('created');
    await store.agents.update('alpha', { state: 'paused', pause_reason: 'maintenance' });
    expect(stateOf('alpha')).toBe('paused');
    expect(await store.agents.delete('alpha')).toBe(true);
    expect(stateOf('alpha')).toBeUndefined();
  });

  it('commits what is pending when the store closes', async () => {
    const store = createSqliteStore({ path });
    const run = runRecord('alpha', minute(0));
    const claimed = store.runs.claim(run);
    await store.close();
    expect(await claimed).toBe(true);
    expect(await openStore().runs.get(run.run_id)).toEqual(run);
  });

  it(`gives the right result to each of more writes than one batch holds (${MAX_BATCH_WRITES})`, async () => {
    const store = openStore();
    const distinct = Math.floor(MAX_BATCH_WRITES * 1.2);
    const runs = Array.from({ length: MAX_BATCH_WRITES * 2.5 }, (_, index) =>
      runRecord('alpha', minute(index % distinct)),
    );
    const claimed = await Promise.all(runs.map((run) => store.runs.claim(run)));
    expect(claimed).toEqual(runs.map((_, index) => index < distinct));
    const reader = openReader();
    expect(reader.prepare('SELECT COUNT(*) AS count FROM runs').get()).toEqual({ count: distinct });
  });
});

describe('createWriteBatcher', () => {
  let directory: ReturnType<typeof temporaryDirectory>;
  let database: Database.Database;

  beforeEach(() => {
    directory = temporaryDirectory();
    database = new Database(join(directory.path, 'batch.db'));
    database.exec('CREATE TABLE items (value TEXT NOT NULL)');
  });
  afterEach(() => {
    database.close();
    directory.remove();
  });

  it('fails the writes a rollback of the whole transaction took, and commits those after it', async () => {
    const writes = createWriteBatcher(database);
    const insert = database.prepare<[string]>('INSERT INTO items (value) VALUES (?)');
    const add = (value: string) => writes.write(['items'], () => insert.run(value).changes);
    // As SQLite does on a full disk or an I/O error: the transaction is gone, not only the savepoint.
    const diskFull = new Error('database or disk is full');
    const results = await Promise.allSettled([
      add('before'),
      writes.write(['items'], () => {
        database.exec('ROLLBACK');
        throw diskFull;
      }),
      add('after'),
    ]);
    expect(results.map(reasonOf)).toEqual([diskFull, diskFull, undefined]);
    expect(database.prepare('SELECT value FROM items').all()).toEqual([{ value: 'after' }]);
  });

  it('runs a callback once per commit after its writes resolve, before their callers resume', async () => {
    const writes = createWriteBatcher(database);
    const insert = database.prepare<[string]>('INSERT INTO items (value) VALUES (?)');
    const seen: string[] = [];
    const afterCommit = () => seen.push('committed');
    await Promise.all(
      ['a', 'b', 'c'].map((value) =>
        writes
          .write(['items'], () => insert.run(value), { afterCommit })
          .then(() => seen.push(value)),
      ),
    );
    expect(seen).toEqual(['committed', 'a', 'b', 'c']);
  });
});
