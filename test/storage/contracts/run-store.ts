import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NightshiftError } from '../../../src/errors.js';
import type { RunStore } from '../../../src/storage/index.js';
import { minute, runRecord, step, type StoreFactory, type StoreFixture } from './fixtures.js';
import { describeRunRetention } from './run-retention.js';

/** The RunStore contract (runs and their steps), run against one backend. */
export function describeRunStore(name: string, factory: StoreFactory): void {
  describe(`RunStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let runs: RunStore;

    beforeEach(async () => {
      fixture = await factory();
      runs = fixture.store.runs;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describeRunRetention(() => runs);

    it('claims a run and reads it back', async () => {
      const run = runRecord('alpha', minute(0));
      expect(await runs.claim(run)).toBe(true);
      expect(await runs.get(run.run_id)).toEqual(run);
      expect(await runs.get('missing')).toBeUndefined();
    });

    it('keeps what a replay replays and how (replay_of, replay_mode) through updates and lists', async () => {
      const original = runRecord('alpha', minute(0), { status: 'completed' });
      const replay = runRecord('alpha', minute(1), {
        run_id: 'replay-1',
        trigger: 'replay',
        status: 'running',
        replay_of: original.run_id,
        replay_mode: { model: 'recorded', tools: 'live' },
      });
      await runs.claim(original);
      expect(await runs.claim(replay)).toBe(true);
      expect(await runs.get(replay.run_id)).toEqual(replay);
      const ended = await runs.update(replay.run_id, { status: 'completed', output: 'same' });
      expect(ended).toEqual({ ...replay, status: 'completed', output: 'same' });
      expect(await runs.get(replay.run_id)).toEqual(ended);
      expect((await runs.list('alpha'))[0]).toEqual(ended);
      // A run that is not a replay has neither field: absent, not null.
      const normal = (await runs.get(original.run_id))!;
      expect(Object.keys(normal)).not.toContain('replay_of');
      expect(Object.keys(normal)).not.toContain('replay_mode');
      // A replay's steps keep where they came from and how they differed.
      const replayed = {
        ...step(replay.run_id, 0),
        request_digest: 'a'.repeat(64),
        replay: { source_step_id: 'step-0', diverged: 'the request differs' },
      };
      await runs.appendStep(replayed);
      await runs.appendStep({ ...step(replay.run_id, 1), replay: { source_step_id: null } });
      expect(await runs.listSteps(replay.run_id)).toEqual([
        replayed,
        { ...step(replay.run_id, 1), replay: { source_step_id: null } },
      ]);
    });

    it('claims a run_id once: the second claim returns false and does not overwrite', async () => {
      const first = runRecord('alpha', minute(0));
      await runs.claim(first);
      const second = runRecord('alpha', minute(0), { trigger: 'manual', query: 'Other.' });
      expect(await runs.claim(second)).toBe(false);
      expect(await runs.get(first.run_id)).toEqual(first);
    });

    it('applies a conditional update only when the run meets its condition (fencing, takeover)', async () => {
      const run = runRecord('alpha', minute(0), {
        status: 'running',
        lease_owner: 'worker-a',
        lease_expires_at: minute(5),
      });
      await runs.claim(run);
      expect(
        await runs.update(run.run_id, { output: 'stale' }, { lease_owner: 'worker-b' }),
      ).toBeUndefined();
      expect(
        await runs.update(run.run_id, { output: 'x' }, { status: ['pending'] }),
      ).toBeUndefined();
      expect(
        await runs.update(run.run_id, { lease_owner: 'worker-b' }, { lease_expired_at: minute(4) }),
      ).toBeUndefined();
      expect((await runs.get(run.run_id))?.output).toBeNull();
      const takeovers = await Promise.all(
        ['worker-b', 'worker-c', 'worker-d'].map((owner) =>
          runs.update(
            run.run_id,
            { lease_owner: owner },
            { lease_owner: 'worker-a', status: ['running'], lease_expired_at: minute(6) },
          ),
        ),
      );
      expect(takeovers.filter(Boolean)).toHaveLength(1);
      const owner = (await runs.get(run.run_id))?.lease_owner;
      expect(
        await runs.update(run.run_id, { output: 'done' }, { lease_owner: owner ?? null }),
      ).toMatchObject({ output: 'done' });
    });

    it('lets exactly one of 20 racing claims of one run_id win', async () => {
      const contenders = Array.from({ length: 20 }, (_, index) =>
        runRecord('alpha', minute(0), { lease_owner: `worker-${index}` }),
      );
      const results = await Promise.all(contenders.map((run) => runs.claim(run)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await runs.get(contenders[0]!.run_id);
      expect(stored).toEqual(contenders[results.indexOf(true)]);
    });

    it('applies a patch and keeps the other fields', async () => {
      const run = runRecord('alpha', minute(0));
      await runs.claim(run);
      const attempt = {
        attempt: 1,
        started_at: minute(1),
        ended_at: minute(2),
        status: 'failed' as const,
        error: { code: 'timeout', message: 'took too long' } as const,
        usage: { requests: 1, input_tokens: 5, output_tokens: 7, total_tokens: 12 },
      };
      const updated = await runs.update(run.run_id, {
        status: 'failed',
        started_at: minute(1),
        ended_at: minute(2),
        attempts: [attempt],
        error: attempt.error,
        usage: attempt.usage,
        output: undefined,
      });
      expect(updated).toEqual({
        ...run,
        status: 'failed',
        started_at: minute(1),
        ended_at: minute(2),
        attempts: [attempt],
        error: attempt.error,
        usage: attempt.usage,
      });
      expect(await runs.get(run.run_id)).toEqual(updated);
      const cleared = await runs.update(run.run_id, { error: null, lease_owner: 'worker-1' });
      expect(cleared).toMatchObject({ error: null, lease_owner: 'worker-1', status: 'failed' });
    });

    it('writes a patch as it was when update was called, whatever the caller does with it next', async () => {
      const run = runRecord('alpha', minute(0));
      await runs.claim(run);
      const attempts = [
        {
          attempt: 1,
          started_at: minute(1),
          ended_at: minute(2),
          status: 'completed' as const,
          error: null,
          usage: { requests: 1, input_tokens: 1, output_tokens: 1, total_tokens: 2 },
        },
      ];
      const patch = { status: 'completed' as const, output: 'first', attempts };
      const pending = runs.update(run.run_id, patch);
      const stepPatch = { state: 'completed' as const, ended_at: minute(2) };
      await runs.appendStep({
        run_id: run.run_id,
        step_id: '1.0',
        attempt: 1,
        index: 0,
        kind: 'model_call',
        state: 'started',
        started_at: minute(1),
        ended_at: null,
      });
      const pendingStep = runs.updateStep(run.run_id, '1.0', stepPatch);
      // Changed before either write has resolved (a store may apply writes later, in a batch).
      patch.output = 'changed';
      attempts.push({ ...attempts[0]!, attempt: 2 });
      stepPatch.ended_at = minute(9);
      await Promise.all([pending, pendingStep]);
      const stored = await runs.get(run.run_id);
      expect(stored?.output).toBe('first');
      expect(stored?.attempts).toHaveLength(1);
      expect((await runs.listSteps(run.run_id))[0]?.ended_at).toBe(minute(2));
    });

    it('returns undefined when updating an absent run, and does not create it', async () => {
      expect(await runs.update('ghost', { status: 'running' })).toBeUndefined();
      expect(await runs.get('ghost')).toBeUndefined();
    });

    it("lists an agent's runs newest scheduled_at first, limited to 50 by default", async () => {
      const order = [3, 0, 4, 1, 2];
      for (const at of order) await runs.claim(runRecord('alpha', minute(at)));
      await runs.claim(runRecord('bravo', minute(9)));
      const listed = await runs.list('alpha');
      expect(listed.map((run) => run.scheduled_at)).toEqual([4, 3, 2, 1, 0].map(minute));
      expect((await runs.list('alpha', { limit: 2 })).map((run) => run.scheduled_at)).toEqual([
        minute(4),
        minute(3),
      ]);
      expect(await runs.list('nobody')).toEqual([]);

      for (let at = 10; at < 60; at += 1) await runs.claim(runRecord('alpha', minute(at)));
      const page = await runs.list('alpha');
      expect(page).toHaveLength(50);
      expect(page[0]?.scheduled_at).toBe(minute(59));
    });

    it('filters the list by one status or several', async () => {
      await runs.claim(runRecord('alpha', minute(0), { status: 'completed' }));
      await runs.claim(runRecord('alpha', minute(1), { status: 'failed' }));
      await runs.claim(runRecord('alpha', minute(2), { status: 'skipped' }));
      await runs.claim(runRecord('alpha', minute(3), { status: 'completed' }));
      const completed = await runs.list('alpha', { status: 'completed' });
      expect(completed.map((run) => run.scheduled_at)).toEqual([minute(3), minute(0)]);
      const errors = await runs.list('alpha', { status: ['failed', 'skipped'] });
      expect(errors.map((run) => run.status)).toEqual(['skipped', 'failed']);
      const limited = await runs.list('alpha', { status: ['completed', 'failed'], limit: 2 });
      expect(limited.map((run) => run.scheduled_at)).toEqual([minute(3), minute(1)]);
    });

    it('lists every unfinished run of every agent, and no finished one', async () => {
      await runs.claim(runRecord('alpha', minute(0), { status: 'running' }));
      await runs.claim(runRecord('alpha', minute(1), { status: 'completed' }));
      await runs.claim(runRecord('bravo', minute(2), { status: 'pending' }));
      await runs.claim(runRecord('bravo', minute(3), { status: 'interrupted' }));
      const unfinished = await runs.listUnfinished();
      expect(unfinished.map((run) => run.run_id).sort()).toEqual(
        [runRecord('alpha', minute(0)).run_id, runRecord('bravo', minute(2)).run_id].sort(),
      );
      await runs.update(runRecord('alpha', minute(0)).run_id, { status: 'completed' });
      expect((await runs.listUnfinished()).map((run) => run.agent_id)).toEqual(['bravo']);
    });

    it('lists a run waiting for a budget as unfinished, and by its status, until it goes on', async () => {
      const run = runRecord('alpha', minute(0), { status: 'running', lease_owner: 'me' });
      await runs.claim(run);
      const waiting = await runs.update(
        run.run_id,
        { status: 'awaiting_budget', lease_owner: null, lease_expires_at: null },
        { lease_owner: 'me' },
      );
      expect(waiting?.status).toBe('awaiting_budget');
      expect((await runs.listUnfinished()).map((entry) => entry.status)).toEqual([
        'awaiting_budget',
      ]);
      expect(
        (await runs.list('alpha', { status: 'awaiting_budget' })).map((entry) => entry.run_id),
      ).toEqual([run.run_id]);
      // Woken once: the second compare-and-set from waiting, held by nobody, finds it running.
      const wake = () =>
        runs.update(
          run.run_id,
          { status: 'running', lease_owner: 'waker' },
          { status: ['awaiting_budget'], lease_owner: null },
        );
      expect((await wake())?.lease_owner).toBe('waker');
      expect(await wake()).toBeUndefined();
      expect(await runs.list('alpha', { status: 'awaiting_budget' })).toEqual([]);
      expect((await runs.listUnfinished()).map((entry) => entry.status)).toEqual(['running']);
    });

    it('keeps steps in the order they were written, and updates them in place', async () => {
      const run = runRecord('alpha', minute(0));
      await runs.claim(run);
      const written = [step(run.run_id, 0), step(run.run_id, 2), step(run.run_id, 1)];
      for (const item of written) await runs.appendStep(item);
      expect(await runs.listSteps(run.run_id)).toEqual(written);

      await runs.updateStep(run.run_id, '1.2', {
        state: 'completed',
        ended_at: minute(5),
        outcome: 'success',
        run_id: 'other-run',
        step_id: '9.9',
      });
      const steps = await runs.listSteps(run.run_id);
      expect(steps.map((item) => item.step_id)).toEqual(['1.0', '1.2', '1.1']);
      expect(steps[1]).toEqual({
        ...written[1],
        state: 'completed',
        ended_at: minute(5),
        outcome: 'success',
      });
      expect(steps[0]).toEqual(written[0]);
    });

    it('keeps the steps of each run apart, and ignores updates of unknown steps', async () => {
      const first = runRecord('alpha', minute(0));
      const second = runRecord('alpha', minute(1));
      await runs.claim(first);
      await runs.claim(second);
      await runs.appendStep(step(first.run_id, 0));
      await runs.appendStep(step(second.run_id, 0, { kind: 'model_call', tool_name: undefined }));
      await runs.updateStep(first.run_id, '7.7', { state: 'completed' });
      expect(await runs.listSteps(first.run_id)).toEqual([step(first.run_id, 0)]);
      expect((await runs.listSteps(second.run_id))[0]?.kind).toBe('model_call');
      expect(await runs.listSteps('no-such-run')).toEqual([]);
    });

    it('refuses to record the same step twice', async () => {
      const run = runRecord('alpha', minute(0));
      await runs.claim(run);
      await runs.appendStep(step(run.run_id, 0));
      const error: unknown = await runs
        .appendStep(step(run.run_id, 0, { tool_name: 'other' }))
        .catch((caught: unknown) => caught);
      expect(NightshiftError.isInstance(error) && error.code).toBe('invalid_state');
      expect(await runs.listSteps(run.run_id)).toEqual([step(run.run_id, 0)]);
    });

    it("deletes an agent's runs and steps, and only that agent's", async () => {
      const alphaRun = runRecord('alpha', minute(0));
      const bravoRun = runRecord('bravo', minute(0));
      await runs.claim(alphaRun);
      await runs.claim(runRecord('alpha', minute(1)));
      await runs.claim(bravoRun);
      await runs.appendStep(step(alphaRun.run_id, 0));
      await runs.appendStep(step(bravoRun.run_id, 0));

      await runs.deleteByAgent('alpha');
      expect(await runs.list('alpha')).toEqual([]);
      expect(await runs.get(alphaRun.run_id)).toBeUndefined();
      expect(await runs.listSteps(alphaRun.run_id)).toEqual([]);
      expect(await runs.list('bravo')).toEqual([bravoRun]);
      expect(await runs.listSteps(bravoRun.run_id)).toEqual([step(bravoRun.run_id, 0)]);
      // The tick can be claimed again once its old record is gone.
      expect(await runs.claim(alphaRun)).toBe(true);
    });

    it('keeps its state apart from the objects callers hold', async () => {
      const run = runRecord('alpha', minute(0));
      await runs.claim(run);
      run.status = 'completed';
      const read = await runs.get(run.run_id);
      read!.usage.total_tokens = 99;
      const listed = await runs.list('alpha');
      listed[0]!.attempts.push({
        attempt: 1,
        started_at: minute(0),
        ended_at: null,
        status: 'running',
        error: null,
        usage: read!.usage,
      });
      const original = step(run.run_id, 0);
      await runs.appendStep(original);
      original.state = 'completed';
      expect(await runs.get(run.run_id)).toEqual(runRecord('alpha', minute(0)));
      expect((await runs.listSteps(run.run_id))[0]?.state).toBe('started');
    });
  });
}
