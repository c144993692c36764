import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteStore, type Store } from '../../src/storage/index.js';
import { MIGRATIONS, migrate } from '../../src/storage/sqlite/migrations.js';
import { runToRow } from '../../src/storage/sql/row-mapping.js';
import { runRecord } from './contracts/fixtures.js';
import { temporaryDirectory } from './temporary-directory.js';

// A replay's `replay_of` and `replay_mode` (schema version 9) on a SQLite database from before
// them: the runs stored before read back as they were, without either field. The contract suite
// (contracts/run-store.ts) checks the fields round-trip on every backend.

describe('replay columns on a SQLite database of schema version 8', () => {
  it('adds them (version 9); a run stored before reads back without replay_of or replay_mode', async () => {
    const directory = temporaryDirectory();
    try {
      mkdirSync(join(directory.path, 'old'), { recursive: true });
      const path = join(directory.path, 'old', 'nightshift.db');
      const old = new Database(path);
      migrate(old, MIGRATIONS.slice(0, 8));
      const record = runRecord('alpha', '2030-01-01T00:00:00.000Z', {
        status: 'completed',
        output: 'done',
        output_json: { ok: true },
      });
      const { replay_of: _of, replay_mode: _mode, ...row } = runToRow(record);
      const columns = Object.keys(row);
      old
        .prepare(
          `INSERT INTO runs (${columns.map((name) => `"${name}"`).join(', ')})
           VALUES (${columns.map((name) => `@${name}`).join(', ')})`,
        )
        .run(row);
      old.close();
      const store: Store = createSqliteStore({ path });
      try {
        const read = await store.runs.get(record.run_id);
        expect(read).toEqual(record);
        expect(Object.keys(read!)).not.toContain('replay_of');
        expect(Object.keys(read!)).not.toContain('replay_mode');
        const replay = runRecord('alpha', '2030-01-02T00:00:00.000Z', {
          trigger: 'replay',
          replay_of: record.run_id,
          replay_mode: { model: 'live', tools: 'recorded' },
        });
        await store.runs.claim(replay);
        expect(await store.runs.get(replay.run_id)).toEqual(replay);
      } finally {
        await store.close();
      }
      const inspector = new Database(path, { readonly: true });
      try {
        expect(
          inspector.prepare('SELECT MAX(version) AS version FROM schema_migrations').get(),
        ).toEqual({ version: 9 });
      } finally {
        inspector.close();
      }
    } finally {
      directory.remove();
    }
  });
});
