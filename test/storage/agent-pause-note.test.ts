import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type AgentStore, type Store } from '../../src/storage/index.js';
import { MIGRATIONS, migrate } from '../../src/storage/sqlite/migrations.js';
import { agentRecord, type StoreFixture } from './contracts/fixtures.js';
import { temporaryDirectory } from './temporary-directory.js';
import { everyBackend } from './every-backend.js';

// A paused agent's note (who, until when) and the conditional update that resumes a timed pause
// once, on every backend.

const backends = everyBackend('nightshift_pause');

const UNTIL = '2031-06-01T18:00:00.000Z';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`pause notes and conditional updates: ${backend.name}`, () => {
    let fixture: StoreFixture;
    let agents: AgentStore;
    beforeEach(async () => {
      fixture = await backend.factory();
      agents = fixture.store.agents;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('keeps who paused an agent and until when, and reads them back the same', async () => {
      await agents.insert(agentRecord('alpha', { state: 'active' }));
      const paused = await agents.update('alpha', {
        state: 'paused',
        pause_reason: 'deploy window',
        paused_by: 'ana',
        paused_until: UNTIL,
      });
      expect(paused).toMatchObject({
        state: 'paused',
        pause_reason: 'deploy window',
        paused_by: 'ana',
        paused_until: UNTIL,
        version: 2,
      });
      expect(await agents.get('alpha')).toEqual(paused);
      expect((await agents.list())[0]).toEqual(paused);
    });

    it('clears the note when the agent leaves the pause, and a removed part is absent', async () => {
      await agents.insert(agentRecord('alpha', { state: 'active' }));
      await agents.update('alpha', { state: 'paused', paused_by: 'ana', paused_until: UNTIL });
      const open = await agents.update('alpha', { paused_until: null });
      expect(open).toMatchObject({ state: 'paused', paused_by: 'ana' });
      expect(open).not.toHaveProperty('paused_until');
      expect(await agents.get('alpha')).toEqual(open);
      // Leaving the pause (resumed, stopped, started) clears who and until when.
      const active = await agents.update('alpha', { state: 'active', pause_reason: null });
      expect(active).not.toHaveProperty('paused_by');
      expect(active).not.toHaveProperty('paused_until');
      expect(await agents.get('alpha')).toEqual(active);
      // A record without a note reads back without one, as inserted.
      await agents.insert(agentRecord('bravo'));
      expect(await agents.get('bravo')).toEqual(agentRecord('bravo'));
    });

    it('applies a conditional update only when the agent as stored meets its condition', async () => {
      await agents.insert(agentRecord('alpha', { state: 'active' }));
      await agents.update('alpha', { state: 'paused', paused_until: UNTIL });
      const resume = { state: 'active', paused_until: null } as const;

      expect(
        await agents.update('alpha', resume, {
          state: 'paused',
          paused_until: '2031-06-01T19:00:00.000Z',
        }),
      ).toBeUndefined();
      expect(await agents.update('alpha', resume, { state: 'active' })).toBeUndefined();
      expect(await agents.update('alpha', resume, { paused_until: null })).toBeUndefined();
      expect(await agents.get('alpha')).toMatchObject({ state: 'paused', version: 2 });

      const resumed = await agents.update('alpha', resume, {
        state: 'paused',
        paused_until: UNTIL,
      });
      expect(resumed).toMatchObject({ state: 'active', version: 3 });
      expect(resumed).not.toHaveProperty('paused_until');
      // The same condition again finds it changed.
      expect(
        await agents.update('alpha', resume, { state: 'paused', paused_until: UNTIL }),
      ).toBeUndefined();
      expect(await agents.update('ghost', resume, { state: 'paused' })).toBeUndefined();
      expect(await agents.get('alpha')).toEqual(resumed);
    });

    it('lets exactly one of many racing conditional updates apply', async () => {
      await agents.insert(agentRecord('alpha', { state: 'active' }));
      await agents.update('alpha', { state: 'paused', paused_until: UNTIL });
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          agents.update(
            'alpha',
            { state: 'active', paused_until: null },
            { state: 'paused', paused_until: UNTIL },
          ),
        ),
      );
      expect(results.filter((result) => result !== undefined)).toHaveLength(1);
      expect(await agents.get('alpha')).toMatchObject({ state: 'active', version: 3 });
    });
  });
}

describe('pause notes on a SQLite database of schema version 5', () => {
  it('adds the columns (version 6); the agents stored before read as paused without a note', async () => {
    const directory = temporaryDirectory();
    try {
      const path = join(directory.path, 'old', 'nightshift.db');
      mkdirSync(join(directory.path, 'old'), { recursive: true });
      const old = new Database(path);
      migrate(old, MIGRATIONS.slice(0, 5));
      const record = agentRecord('alpha', { state: 'paused', pause_reason: 'maintenance' });
      old
        .prepare(
          `INSERT INTO agents (agent_id, definition, state, pause_reason, anchor_at, created_at, updated_at, version, stats)
           VALUES (?, ?, 'paused', 'maintenance', NULL, ?, ?, 1, ?)`,
        )
        .run(
          'alpha',
          JSON.stringify(record.definition),
          record.created_at,
          record.updated_at,
          JSON.stringify(record.stats),
        );
      old.close();
      const store: Store = createSqliteStore({ path });
      try {
        expect(await store.agents.get('alpha')).toEqual(record);
        const timed = await store.agents.update('alpha', { paused_by: 'ana', paused_until: UNTIL });
        expect(await store.agents.get('alpha')).toEqual(timed);
        expect(timed).toMatchObject({ paused_by: 'ana', paused_until: UNTIL });
      } finally {
        await store.close();
      }
      const inspector = new Database(path, { readonly: true });
      expect(
        inspector.prepare('SELECT MAX(version) AS version FROM schema_migrations').get(),
      ).toEqual({ version: MIGRATIONS.at(-1)!.version });
      inspector.close();
    } finally {
      directory.remove();
    }
  });
});
