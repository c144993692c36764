import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type RunStore, type Store } from '../../src/storage/index.js';
import { MIGRATIONS, migrate } from '../../src/storage/sqlite/migrations.js';
import { runRecord, type StoreFixture } from './contracts/fixtures.js';
import { temporaryDirectory } from './temporary-directory.js';
import { everyBackend } from './every-backend.js';

// A run's answer parsed (`output_json`, structured answers) on every backend, and on a SQLite
// database from before it (schema version 6).

const backends = everyBackend('nightshift_output');

const VERDICT = { status: 'ok', rows: 42, checks: [{ name: 'disk', up: true }], note: null };

for (const backend of backends) {
  describe.skipIf(backend.skip)(`a run's output_json: ${backend.name}`, () => {
    let fixture: StoreFixture;
    let runs: RunStore;
    beforeEach(async () => {
      fixture = await backend.factory();
      runs = fixture.store.runs;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('keeps the parsed answer beside its text, and reads it back the same', async () => {
      const run = runRecord('alpha', '2030-01-01T00:00:00.000Z', { status: 'running' });
      expect(await runs.claim(run)).toBe(true);
      expect((await runs.get(run.run_id))?.output_json).toBeNull();
      const ended = await runs.update(run.run_id, {
        status: 'completed',
        output: JSON.stringify(VERDICT),
        output_json: VERDICT,
      });
      expect(ended).toMatchObject({ output_json: VERDICT });
      expect(await runs.get(run.run_id)).toEqual(ended);
      expect((await runs.list('alpha'))[0]).toEqual(ended);
    });

    it('keeps any JSON value an answer may be: a string, a number, false, a list', async () => {
      for (const [index, value] of (['ok', 0, false, [1, 'two']] as const).entries()) {
        const run = runRecord('alpha', `2030-01-0${index + 1}T00:00:00.000Z`);
        await runs.claim(run);
        await runs.update(run.run_id, { output_json: value });
        expect((await runs.get(run.run_id))?.output_json).toEqual(value);
      }
    });
  });
}

describe('output_json on a SQLite database of schema version 6', () => {
  it('adds the column (version 7); the runs stored before read with a null output_json', async () => {
    const directory = temporaryDirectory();
    try {
      const path = join(directory.path, 'old', 'nightshift.db');
      mkdirSync(join(directory.path, 'old'), { recursive: true });
      const old = new Database(path);
      migrate(old, MIGRATIONS.slice(0, 6));
      const record = runRecord('alpha', '2030-01-01T00:00:00.000Z', {
        status: 'completed',
        output: 'done',
      });
      old
        .prepare(
          `INSERT INTO runs (run_id, agent_id, "trigger", scheduled_at, created_at, started_at, ended_at, status, query, attempts, output, error, usage, skip_reason, lease_owner, lease_expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, NULL, NULL)`,
        )
        .run(
          record.run_id,
          record.agent_id,
          record.trigger,
          record.scheduled_at,
          record.created_at,
          record.started_at,
          record.ended_at,
          record.status,
          record.query,
          JSON.stringify(record.attempts),
          record.output,
          JSON.stringify(record.usage),
        );
      old.close();
      const store: Store = createSqliteStore({ path });
      try {
        expect(await store.runs.get(record.run_id)).toEqual({ ...record, output_json: null });
      } finally {
        await store.close();
      }
    } finally {
      directory.remove();
    }
  });
});
