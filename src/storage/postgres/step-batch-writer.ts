import type { RunStep } from '../contracts/run-store.js';
import { groupCommit } from '../group-commit.js';
import { rowVersion, type Versioned } from './compare-and-set.js';
import type { PostgresDatabase } from './connection.js';
import { refusesData } from './refused-data.js';

/** Most steps written in one statement. */
const MAX_BATCH_STEPS = 200;

/** A step row as a batch statement returns it. */
interface StepRow extends Versioned {
  run_id: string;
  step_id: string;
}

/** One write's outcome in a batch: the row's new version (undefined: not written), or its error. */
type Outcome = { version: string | undefined } | { error: unknown };

/** One step written over the row still at `version`. */
interface Replacement {
  step: RunStep;
  version: string;
}

/** Writes the journal steps of many runs, many to a statement. */
export interface StepBatchWriter {
  /** Inserts the step unless its run has one with its id: the row's version, or undefined. */
  append(step: RunStep): Promise<string | undefined>;
  /** Writes the step over its row if still at `version`: the new version, or undefined. */
  replace(step: RunStep, version: string): Promise<string | undefined>;
}

const keyOf = (row: { run_id: string; step_id: string }) => `${row.run_id}\u0000${row.step_id}`;

/**
 * Group commit of the step writes of a process's runs (`group-commit.ts`): a run's own steps
 * are written one after another, so a batch holds steps of different runs that came together,
 * in one statement (its own transaction) instead of one each. Alone, a write waits only for a
 * microtask. Each write's outcome is that of its own statement: an append of a step id already
 * recorded, or a replacement of a row that moved on, writes nothing. Of two writes of one step
 * in a batch, the first goes and the later one finds the row moved on (it is tried again by
 * its caller's compare-and-set, as after another writer). When the database refuses a batch's
 * data, its writes go again one at a time, so only the one it refuses fails.
 */
export function createStepBatchWriter(database: PostgresDatabase): StepBatchWriter {
  const steps = database.table('run_steps');
  const appendStatement = database.prepare(`
    INSERT INTO ${steps} (run_id, step_id, step)
    SELECT run_id, step_id, step
    FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY
      AS batch (run_id, step_id, step, ordinality)
    ORDER BY ordinality
    ON CONFLICT DO NOTHING RETURNING run_id, step_id, ${rowVersion.column}
  `);
  const replaceStatement = database.prepare(`
    UPDATE ${steps} AS stored SET step = batch.step
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[])
      AS batch (run_id, step_id, step, version)
    WHERE stored.run_id = batch.run_id AND stored.step_id = batch.step_id
      AND stored.xmin::text = batch.version
    RETURNING stored.run_id, stored.step_id, stored.xmin::text AS row_version
  `);

  /** Each item's version from the rows written, by its key; a key's later items get none. */
  function versionsOf<Item>(items: readonly Item[], key: (item: Item) => string, rows: StepRow[]) {
    const written = new Map(rows.map((row) => [keyOf(row), row.row_version]));
    return items.map((item): Outcome => {
      const version = written.get(key(item));
      written.delete(key(item));
      return { version };
    });
  }

  /** Writes a batch in one statement; its data refused, one item at a time. */
  function batchWriter<Item>(write: (items: readonly Item[]) => Promise<Outcome[]>) {
    return async (items: readonly Item[]): Promise<Outcome[]> => {
      try {
        return await write(items);
      } catch (error) {
        if (items.length === 1 || !refusesData(error)) throw error;
        const outcomes: Outcome[] = [];
        for (const item of items) {
          outcomes.push(
            await write([item]).then(
              ([outcome]) => outcome!,
              (failed: unknown) => ({ error: failed }),
            ),
          );
        }
        return outcomes;
      }
    };
  }

  const appends = groupCommit<RunStep, Outcome>(
    batchWriter(async (batch) => {
      const { rows } = await database.write<StepRow>(appendStatement, [
        batch.map((step) => step.run_id),
        batch.map((step) => step.step_id),
        batch.map((step) => JSON.stringify(step)),
      ]);
      return versionsOf(batch, keyOf, rows);
    }),
    MAX_BATCH_STEPS,
  );

  const replacements = groupCommit<Replacement, Outcome>(
    batchWriter(async (batch) => {
      // Of two writes of one row, only the first is sent: the second finds it moved on.
      const seen = new Set<string>();
      const sent = batch.filter(({ step }) => !seen.has(keyOf(step)) && seen.add(keyOf(step)));
      const { rows } = await database.write<StepRow>(replaceStatement, [
        sent.map(({ step }) => step.run_id),
        sent.map(({ step }) => step.step_id),
        sent.map(({ step }) => JSON.stringify(step)),
        sent.map(({ version }) => version),
      ]);
      return versionsOf(batch, ({ step }) => keyOf(step), rows);
    }),
    MAX_BATCH_STEPS,
  );

  const settled = async (outcome: Promise<Outcome>): Promise<string | undefined> => {
    const result = await outcome;
    if ('error' in result) throw result.error;
    return result.version;
  };

  return {
    append: (step) => settled(appends.write(step)),
    replace: (step, version) => settled(replacements.write({ step, version })),
  };
}
