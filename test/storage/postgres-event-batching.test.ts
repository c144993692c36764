import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NightshiftError } from '../../src/errors.js';
import {
  compareEventIds,
  type EventLog,
  type NewEvent,
  type NightshiftEvent,
} from '../../src/storage/index.js';
import {
  createPostgresEventLog,
  type PostgresEventLogOptions,
} from '../../src/storage/postgres/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { agentMessage } from './contracts/fixtures.js';
import { postgresTestUrl, postgresUnavailableReason, uniqueName } from './postgres-server.js';

const url = postgresTestUrl();
// postgres.test.ts reports a missing server (and fails CI for it); these only need one.
const describePostgres =
  (await postgresUnavailableReason(url)) === undefined ? describe : describe.skip;

/** Connections of the test itself, to drop its schemas. */
const admin = new pg.Pool({ connectionString: url, max: 1 });
admin.on('error', () => undefined);

/** Appends per log in the concurrency test: a burst above one batch's cap, and chains. */
const BURST = 600;
const CHAINS = 8;
const CHAIN_LENGTH = 50;

/** A distinct event for `label`: agents, run ids, types and timestamps vary with `index`. */
function distinctEvent(label: string, index: number): NewEvent {
  const common = {
    agent_id: `agent-${index % 3}`,
    run_id: index % 2 === 0 ? null : `run-${label}-${index}`,
    timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, 0, index)).toISOString(),
  };
  return index % 5 === 0
    ? { ...common, type: 'user_message', payload: { message: `${label}-${index}` } }
    : { ...common, type: 'agent_message', payload: { message: `${label}-${index}` } };
}

function expectIncreasingIds(events: readonly NightshiftEvent[]): void {
  for (let index = 1; index < events.length; index += 1) {
    expect(compareEventIds(events[index]!.id, events[index - 1]!.id)).toBeGreaterThan(0);
  }
}

/** What one log was asked to append, in the order of the calls, and what each call returned. */
interface Appended {
  sent: NewEvent[];
  returned: NightshiftEvent[];
}

/**
 * Appends `BURST` events at once and, alongside, `CHAINS` callers that each await one
 * append before making the next; `onProgress` hears each append that resolves.
 */
async function appendConcurrently(
  log: EventLog,
  label: string,
  onProgress: () => void,
): Promise<Appended> {
  const sent: NewEvent[] = [];
  const calls: Promise<NightshiftEvent>[] = [];
  const append = (): Promise<NightshiftEvent> => {
    const event = distinctEvent(label, sent.length);
    sent.push(event);
    const call = log.append(event);
    calls.push(call);
    void call.then(onProgress, () => undefined);
    return call;
  };
  const chain = async (): Promise<void> => {
    for (let step = 0; step < CHAIN_LENGTH; step += 1) await append();
  };
  const chains = Array.from({ length: CHAINS }, chain);
  for (let index = 0; index < BURST; index += 1) void append();
  await Promise.all(chains);
  return { sent, returned: await Promise.all(calls) };
}

describePostgres('postgres event log batching', () => {
  let schema: string;
  const opened: EventLog[] = [];

  /** An event log with a pool of its own, as another process would have. */
  function openLog(options: Partial<PostgresEventLogOptions> = {}): EventLog {
    const log = createPostgresEventLog({ url, schema, pool: { shared: false }, ...options });
    opened.push(log);
    return log;
  }

  beforeEach(() => {
    schema = uniqueName('nightshift_test');
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((log) => log.close()));
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  });
  afterAll(async () => {
    await admin.end();
  });

  it('keeps ids, call order and delivery exact for 2,000 appends from two processes at once', async () => {
    // Polling too slow to matter: only NOTIFY (and the catch-up after LISTEN) can deliver.
    const listening = openLog({ pollIntervalMs: 60_000 });
    const [first, second] = [openLog(), openLog()];
    const heard: NightshiftEvent[] = [];
    const late: NightshiftEvent[] = [];
    listening.subscribe((event) => heard.push(event));
    // Its own append settles the subscription's starting point first.
    const start = await listening.append(agentMessage('alpha', 'start'));

    let resolved = 0;
    const onProgress = (): void => {
      resolved += 1;
      // A second subscriber joins while the appends are in full flow.
      if (resolved === 500) listening.subscribe((event) => late.push(event));
    };
    const appended = await Promise.all([
      appendConcurrently(first, 'first', onProgress),
      appendConcurrently(second, 'second', onProgress),
    ]);

    for (const { sent, returned } of appended) {
      expect(returned).toHaveLength(BURST + CHAINS * CHAIN_LENGTH);
      // Each caller gets its own event back, and ids follow the order of the calls.
      expect(returned).toEqual(sent.map((event) => ({ ...event, id: expect.any(String) })));
      expectIncreasingIds(returned);
    }
    const returned = appended.flatMap((log) => log.returned);
    const newest = returned
      .map((event) => event.id)
      .sort(compareEventIds)
      .at(-1)!;
    await waitFor(() => heard.at(-1)?.id === newest && late.at(-1)?.id === newest, {
      what: 'both subscribers to hear the newest event',
    });

    const stored = await listening.read({ limit: 10_000 });
    expect(stored).toHaveLength(1 + 2 * (BURST + CHAINS * CHAIN_LENGTH));
    expect(stored[0]).toEqual(start);
    // Every event once, in id order, none skipped: exactly what the table holds.
    expect(heard).toEqual(stored);
    expectIncreasingIds(heard);
    expect(late.length).toBeGreaterThan(0);
    expect(late).toEqual(stored.slice(stored.length - late.length));
    const byId = new Map(returned.map((event) => [event.id, event]));
    for (const event of stored.slice(1)) expect(byId.get(event.id)).toEqual(event);
  });

  it('hands a subscriber that joins during a long catch-up the appends made after it joined', async () => {
    const log = openLog({ pollIntervalMs: 60_000 });
    const joined: NightshiftEvent[] = [];
    let afterJoining: Promise<NightshiftEvent> | undefined;
    log.subscribe((event) => {
      if (afterJoining !== undefined || event.agent_id !== 'bulk') return;
      // The log is busy handing this subscriber 20,000 events: the newcomer's starting
      // point is read only after that, and the append must wait for it.
      log.subscribe((later) => joined.push(later));
      afterJoining = log.append(agentMessage('alpha', 'after joining'));
    });
    await log.append(agentMessage('alpha', 'start'));
    // Written behind the log's back, so only its next delivery hands them over.
    await admin.query(
      `INSERT INTO ${pg.escapeIdentifier(schema)}.events (agent_id, type, "timestamp", payload)
       SELECT 'bulk', 'agent_message', '2024-01-01T00:00:00.000Z', jsonb_build_object('message', 'bulk ' || n)
       FROM generate_series(1, 20000) AS n`,
    );
    await log.append(agentMessage('alpha', 'wake up'));

    const appended = await waitFor(() => afterJoining, { what: 'the catch-up to start' });
    await waitFor(() => joined.length > 0, { what: 'the newcomer to hear the append' });
    expect(joined).toEqual([appended]);
  });

  it('fails only the appends whose payload cannot be stored, keeping the others in order', async () => {
    const log = openLog();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const events = [
      agentMessage('alpha', 'one'),
      agentMessage('alpha', 'the database refuses \u0000'),
      agentMessage('alpha', 'two'),
      { ...agentMessage('alpha', ''), payload: circular } as unknown as NewEvent,
      agentMessage('alpha', 'three'),
    ];
    const results = await Promise.allSettled(events.map((event) => log.append(event)));

    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    // The database's own refusal, as if the event had been appended alone.
    expect(results[1]).toMatchObject({ reason: { code: '22P05' } });
    expect(results[3]).toMatchObject({ reason: expect.any(TypeError) });
    const stored = await log.read();
    expect(stored.map((event) => (event.payload as { message: string }).message)).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(stored).toEqual(
      results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])),
    );
  });

  it('fails every append of a batch the database cannot take, with storage_unavailable', async () => {
    const log = createPostgresEventLog({ url: 'postgres://user:secret@127.0.0.1:1/x', schema });
    opened.push(log);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, index) => log.append(agentMessage('alpha', `m${index}`))),
    );
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as unknown;
      expect(NightshiftError.isInstance(reason) && reason.code).toBe('storage_unavailable');
    }
  });

  it('hands its own appends to its subscribers without reading them back, NOTIFY or not', async () => {
    const log = openLog({ pollIntervalMs: 600_000 });
    const heard: NightshiftEvent[] = [];
    await new Promise<void>((resolve) => {
      log.subscribe((event) => heard.push(event), { onReady: resolve });
    });
    // The first append starts the LISTEN connection; counted from the second on.
    await log.append(agentMessage('alpha', 'first'));
    await waitFor(() => heard.length === 1);
    const client = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const query = client.query;
    let reads = 0;
    client.query = function (this: unknown, ...args: unknown[]): unknown {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
      if (text?.startsWith('SELECT * FROM') && text.includes('WHERE id >')) reads += 1;
      // The append's reply held back a little, so its NOTIFY (on the other connection) comes
      // first, as it often does on a loaded machine.
      const result: unknown = Reflect.apply(query, this, args);
      if (!text?.startsWith('WITH append_lock') || !(result instanceof Promise)) return result;
      return result.then(
        (reply: unknown) => new Promise((resolve) => setTimeout(() => resolve(reply), 50)),
      );
    };
    try {
      for (let index = 0; index < 20; index += 1) {
        const event = await log.append(agentMessage('alpha', `m${index}`));
        await waitFor(() => heard.at(-1)?.id === event.id);
      }
    } finally {
      client.query = query;
    }
    expect(heard).toHaveLength(21);
    expectIncreasingIds(heard);
    // Each append's NOTIFY comes back too; it finds every subscriber served already.
    expect(reads).toBeLessThanOrEqual(2);
  });

  it('writes the appends made before close, and refuses those after', async () => {
    const log = openLog();
    const appends = Array.from({ length: 50 }, (_, index) =>
      log.append(agentMessage('alpha', `m${index}`)),
    );
    await log.close();
    const appended = await Promise.all(appends);
    await expect(log.append(agentMessage('alpha', 'late'))).rejects.toMatchObject({
      code: 'storage_unavailable',
    });
    expect(await openLog().read()).toEqual(appended);
  });
});
