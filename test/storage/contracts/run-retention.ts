import { expect, it } from 'vitest';
import { NightshiftError } from '../../../src/errors.js';
import type { RunRecord, RunStatus, RunStore } from '../../../src/storage/index.js';
import { minute, runRecord, step } from './fixtures.js';

/** An ended run of `agentId`, due at `scheduled` and ended at `ended` (minutes). */
function endedRun(
  agentId: string,
  scheduled: number,
  ended: number,
  status: RunStatus = 'completed',
): RunRecord {
  return runRecord(agentId, minute(scheduled), {
    status,
    started_at: minute(scheduled),
    ended_at: minute(ended),
  });
}

/** The retention cases of the RunStore contract (`pruneEnded`), inside its describe. */
export function describeRunRetention(runsUnderTest: () => RunStore): void {
  it('prunes ended runs older than the cutoff, oldest first and in batches, with their steps, and nothing else', async () => {
    const runs = runsUnderTest();
    const old = [
      // Oldest ended first, whatever the status.
      endedRun('alpha', 0, 1, 'skipped'),
      endedRun('alpha', 1, 2, 'failed'),
      endedRun('alpha', 2, 4, 'completed'),
    ];
    // Unfinished runs stay whatever their age; so do newer runs and other agents' runs.
    const unfinished = (
      ['pending', 'running', 'awaiting_budget', 'awaiting_approval'] as const
    ).map((status, index) => runRecord('alpha', minute(3 + index), { status }));
    const newer = endedRun('alpha', 8, 30);
    const otherAgent = endedRun('bravo', 0, 1);
    for (const run of [...old, ...unfinished, newer, otherAgent]) await runs.claim(run);
    await runs.appendStep(step(old[0]!.run_id, 0));
    await runs.appendStep(step(unfinished[1]!.run_id, 0));
    const cutoff = { agent_id: 'alpha', ended_before: minute(10) };

    const wouldGo = await runs.pruneEnded({ ...cutoff, limit: 1, dry_run: true });
    expect(wouldGo).toEqual(old.map((run) => run.run_id));
    expect(await runs.get(old[0]!.run_id)).toEqual(old[0]);

    expect(await runs.pruneEnded({ ...cutoff, limit: 2 })).toEqual([
      old[0]!.run_id,
      old[1]!.run_id,
    ]);
    expect(await runs.pruneEnded({ ...cutoff, limit: 2 })).toEqual([old[2]!.run_id]);
    expect(await runs.pruneEnded(cutoff)).toEqual([]);

    for (const run of old) expect(await runs.get(run.run_id)).toBeUndefined();
    expect(await runs.listSteps(old[0]!.run_id)).toEqual([]);
    for (const run of [...unfinished, newer, otherAgent])
      expect(await runs.get(run.run_id)).toEqual(run);
    expect(await runs.listSteps(unfinished[1]!.run_id)).toHaveLength(1);
    expect((await runs.list('alpha')).map((run) => run.run_id).sort()).toEqual(
      [...unfinished, newer].map((run) => run.run_id).sort(),
    );
    expect((await runs.list('alpha', { status: 'completed' })).map((run) => run.run_id)).toEqual([
      newer.run_id,
    ]);
    expect((await runs.listUnfinished()).map((run) => run.run_id).sort()).toEqual(
      unfinished.map((run) => run.run_id).sort(),
    );
  });

  it('prunes each run once when two prunes run at once', async () => {
    const runs = runsUnderTest();
    const old = Array.from({ length: 12 }, (_, index) => endedRun('alpha', index, index + 1));
    for (const run of old) await runs.claim(run);
    const cutoff = { agent_id: 'alpha', ended_before: minute(60), limit: 5 };
    const removed: string[] = [];
    for (;;) {
      const batches = await Promise.all([runs.pruneEnded(cutoff), runs.pruneEnded(cutoff)]);
      if (batches.every((batch) => batch.length === 0)) break;
      removed.push(...batches.flat());
    }
    expect(removed.sort()).toEqual(old.map((run) => run.run_id).sort());
    expect(await runs.list('alpha')).toEqual([]);
  });

  it('refuses a bad limit or cutoff with config_invalid naming the field', async () => {
    const runs = runsUnderTest();
    await expect(
      runs.pruneEnded({ agent_id: 'alpha', ended_before: minute(1), limit: 0 }),
    ).rejects.toMatchObject({ code: 'config_invalid', fields: [{ path: 'limit' }] });
    const error: unknown = await runs
      .pruneEnded({ agent_id: 'alpha', ended_before: 'yesterday' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NightshiftError);
    expect(error).toMatchObject({ code: 'config_invalid', fields: [{ path: 'ended_before' }] });
  });
}
