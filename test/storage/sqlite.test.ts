import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
} from '../../src/storage/index.js';
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
import { MIGRATIONS, migrate } from '../../src/storage/sqlite/migrations.js';
import { temporaryDirectory } from './temporary-directory.js';

const storeFactory: StoreFactory = async (options = {}) => {
  const directory = temporaryDirectory();
  const path = join(directory.path, 'nightshift.db');
  const store = createSqliteStore({ path, now: options.now });
  const siblings: Store[] = [];
  return {
    store,
    cleanup: async () => {
      for (const sibling of siblings) await sibling.close();
      await store.close();
      directory.remove();
    },
    sibling: () => {
      const sibling = createSqliteStore({ path, now: options.now });
      siblings.push(sibling);
      return sibling;
    },
  };
};

describeAgentStore('sqlite', storeFactory);
describeRunPhases('sqlite', storeFactory);
describeRunStore('sqlite', storeFactory);
describeMessageStore('sqlite', storeFactory);
describeLeaseStore('sqlite', storeFactory);
describeBudgetStore('sqlite', storeFactory);
describeApprovalStore('sqlite', storeFactory);
describeEventLog('sqlite', async (options) => {
  const directory = temporaryDirectory();
  const log = createSqliteEventLog({ path: join(directory.path, 'events.db'), ...options });
  return {
    log,
    cleanup: async () => {
      await log.close();
      directory.remove();
    },
  };
});

function messagesOf(events: readonly NightshiftEvent[]): string[] {
  return events.map((event) => (event.payload as { message: string }).message);
}

describe('sqlite backend', () => {
  let directory: ReturnType<typeof temporaryDirectory>;
  let path: string;
  /** Everything a test opened, closed after it whatever happened. */
  const opened: (Store | EventLog)[] = [];

  /** A store with a connection of its own, as another process would have. */
  function openStore(options: { shared?: boolean } = {}): Store {
    const store = createSqliteStore({ path, sharedConnection: options.shared ?? false });
    opened.push(store);
    return store;
  }

  function openLog(pollIntervalMs = 10, shared = false): EventLog {
    const log = createSqliteEventLog({ path, pollIntervalMs, sharedConnection: shared });
    opened.push(log);
    return log;
  }

  beforeEach(() => {
    directory = temporaryDirectory();
    path = join(directory.path, 'nested', 'nightshift.db');
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((item) => item.close()));
    directory.remove();
  });

  it('creates the parent directory, uses WAL, and records its schema version once', async () => {
    const store = openStore();
    await store.close();
    openStore();
    expect(existsSync(path)).toBe(true);
    const inspector = new Database(path, { readonly: true });
    try {
      expect(inspector.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(inspector.prepare('SELECT version FROM schema_migrations').all()).toEqual([
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
    } finally {
      inspector.close();
    }
  });

  it('keeps everything across close and reopen of the file', async () => {
    const store = openStore({ shared: true });
    const log = openLog(10, true);
    await store.agents.insert(agentRecord('alpha'));
    await store.runs.claim(runRecord('alpha', minute(0)));
    await store.messages.append('session', [{ role: 'user', content: 'hello' }]);
    const lease = await store.leases.acquire('agent:alpha', 'worker-1', 60_000);
    const event = await log.append(agentMessage('alpha', 'persisted'));
    await store.close();
    await log.close();

    const reopened = openStore({ shared: true });
    const reopenedLog = openLog(10, true);
    expect(await reopened.agents.get('alpha')).toEqual(agentRecord('alpha'));
    expect(await reopened.runs.get(runRecord('alpha', minute(0)).run_id)).toEqual(
      runRecord('alpha', minute(0)),
    );
    expect(await reopened.messages.list('session')).toEqual([{ role: 'user', content: 'hello' }]);
    expect(await reopened.leases.get('agent:alpha')).toEqual(lease);
    expect(await reopenedLog.read()).toEqual([event]);
    const next = await reopenedLog.append(agentMessage('alpha', 'later'));
    expect(compareEventIds(next.id, event.id)).toBeGreaterThan(0);
  });

  it('shows each connection the writes of the other', async () => {
    const first = openStore();
    const second = openStore();
    await first.agents.insert(agentRecord('alpha'));
    expect(await second.agents.get('alpha')).toEqual(agentRecord('alpha'));
    await second.agents.update('alpha', { state: 'paused', pause_reason: 'maintenance' });
    expect(await first.agents.get('alpha')).toMatchObject({ state: 'paused', version: 2 });
    await first.agents.updateStats('alpha', { skipped: 1 });
    await second.agents.updateStats('alpha', { skipped: 1 });
    expect((await first.agents.get('alpha'))?.stats.skip_count).toBe(2);
  });

  it('lets exactly one claim of a run win across connections', async () => {
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

  it('fences leases across connections', async () => {
    const [first, second] = [openStore(), openStore()];
    const lease = await first.leases.acquire('agent:alpha', 'worker-1', 60_000);
    expect(await second.leases.acquire('agent:alpha', 'worker-2', 60_000)).toBeUndefined();
    expect(await second.leases.release('agent:alpha', 'worker-1', lease!.token)).toBe(true);
    const taken = await second.leases.acquire('agent:alpha', 'worker-2', 60_000);
    expect(taken!.token).toBeGreaterThan(lease!.token);
    expect(await first.leases.renew('agent:alpha', 'worker-1', lease!.token, 60_000)).toBe(false);
  });

  it('hands a subscriber the events of another connection by polling, once each and in order', async () => {
    const listening = openLog(10);
    const elsewhere = openLog();
    const heard: NightshiftEvent[] = [];
    listening.subscribe((event) => heard.push(event));

    for (let index = 0; index < 5; index += 1) {
      await elsewhere.append(agentMessage('alpha', `elsewhere ${index}`));
    }
    await expect.poll(() => heard.length, WAIT).toBe(5);
    await listening.append(agentMessage('alpha', 'here'));
    await elsewhere.append(agentMessage('alpha', 'elsewhere 5'));
    await expect.poll(() => heard.length, WAIT).toBe(7);

    expect(heard).toEqual(await listening.read());
    expect(messagesOf(heard)).toEqual([
      'elsewhere 0',
      'elsewhere 1',
      'elsewhere 2',
      'elsewhere 3',
      'elsewhere 4',
      'here',
      'elsewhere 5',
    ]);
  });

  it("catches up on other connections' events before handing over its own append", async () => {
    // Polling too slow to matter: only the append itself can deliver.
    const listening = openLog(60_000);
    const elsewhere = openLog();
    const heard: NightshiftEvent[] = [];
    listening.subscribe((event) => heard.push(event));
    await elsewhere.append(agentMessage('alpha', 'elsewhere 0'));
    await elsewhere.append(agentMessage('alpha', 'elsewhere 1'));
    await listening.append(agentMessage('alpha', 'here'));
    expect(messagesOf(heard)).toEqual(['elsewhere 0', 'elsewhere 1', 'here']);
    expect(heard).toEqual(await listening.read());
  });

  it('hands a late subscriber only what was appended after it subscribed, across connections', async () => {
    const listening = openLog(60_000);
    const elsewhere = openLog();
    const early: NightshiftEvent[] = [];
    const late: NightshiftEvent[] = [];
    listening.subscribe((event) => early.push(event));
    await elsewhere.append(agentMessage('alpha', 'before the late one'));
    listening.subscribe((event) => late.push(event));
    await listening.append(agentMessage('alpha', 'after both'));
    expect(messagesOf(early)).toEqual(['before the late one', 'after both']);
    expect(messagesOf(late)).toEqual(['after both']);
  });

  it('hands this process its own appends at once, without waiting for a poll', async () => {
    const log = openLog(60_000, true);
    const sibling = openLog(60_000, true);
    const heard: string[] = [];
    log.subscribe((event) => heard.push(`log ${event.id}`));
    sibling.subscribe((event) => heard.push(`sibling ${event.id}`));
    const event = await log.append(agentMessage('alpha', 'now'));
    expect(heard).toEqual([`log ${event.id}`, `sibling ${event.id}`]);
  });

  it('trims the history to maxEvents, also for events written before it opened', async () => {
    const writer = createSqliteEventLog({ path, maxEvents: 1_000 });
    opened.push(writer);
    for (let index = 0; index < 30; index += 1) await writer.append(agentMessage('alpha', 'm'));
    const trimmed = createSqliteEventLog({ path, maxEvents: 10, sharedConnection: false });
    opened.push(trimmed);
    const kept = await trimmed.read();
    expect(kept).toHaveLength(10);
    expect(kept[0]?.id).toBe('21');
  });

  it('fails with storage_unavailable naming the path when the file cannot be opened', () => {
    const notADirectory = join(directory.path, 'plain-file');
    writeFileSync(notADirectory, 'not a directory');
    for (const badPath of [directory.path, join(notADirectory, 'nightshift.db')]) {
      let error: unknown;
      try {
        createSqliteStore({ path: badPath });
      } catch (caught) {
        error = caught;
      }
      expect(NightshiftError.isInstance(error) && error.code).toBe('storage_unavailable');
      expect((error as Error).message).toContain(badPath);
    }
  });

  it('upgrades a database of schema version 3: its grants read as lasting their window, and expire from then on', async () => {
    mkdirSync(dirname(path), { recursive: true });
    const old = new Database(path);
    migrate(old, MIGRATIONS.slice(0, 3));
    old
      .prepare(
        `INSERT INTO budget_grants (grant_id, "key", micro_usd, tokens, requests, tool_calls,
           granted_by, note, granted_at, granted_at_ms, resets_at)
         VALUES ('old', 'fleet:per_day:2026-12-03', 0, 5, 0, 0, 'ana', 'before expiry',
           '2026-12-03T10:00:00.000Z', ?, '2026-12-04T00:00:00.000Z')`,
      )
      .run(Date.parse('2026-12-03T10:00:00.000Z'));
    old.close();
    const store = openStore();
    const grants = await store.budgets.listGrants();
    expect(grants).toEqual([
      expect.objectContaining({ grant_id: 'old', expires_at: null, expired_at: null }),
    ]);
    expect(await store.budgets.expireGrants(new Date('2027-01-01T00:00:00Z'))).toEqual([]);
    await store.budgets.grant({
      ...grants[0]!,
      grant_id: 'new',
      expires_at: '2026-12-03T12:00:00.000Z',
    });
    expect(
      (await store.budgets.expireGrants(new Date('2026-12-03T12:00:00.000Z'))).map(
        (grant) => grant.grant_id,
      ),
    ).toEqual(['new']);
  });

  it('refuses a database whose schema is newer than this version knows', async () => {
    await openStore().close();
    const database = new Database(path);
    database.prepare("INSERT INTO schema_migrations VALUES (999, 'future', '2999-01-01')").run();
    database.close();
    expect(() => createSqliteStore({ path, sharedConnection: false })).toThrow(/newer than/);
  });
});
