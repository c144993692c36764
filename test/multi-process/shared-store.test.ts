import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  type NightshiftEvent,
  type RunRecord,
} from '../../src/index.js';
import {
  postgresTestUrl,
  postgresUnavailableReason,
  uniqueName,
} from '../storage/postgres-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { startManager, type ManagerProcess } from './multi-process.js';

const url = postgresTestUrl();
const unavailable = await postgresUnavailableReason(url);
if (unavailable && process.env.CI !== 'true') {
  console.warn(
    `skipped the multi-process Postgres suite: no Postgres server answers at ${url} (${unavailable})`,
  );
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function inspector(namespace: string): BackgroundAgentService {
  const service = new BackgroundAgentService(
    new MemoryRouter('database', { url, namespace }),
    new EventRouter('database', { url, namespace }),
  );
  cleanups.push(() => service.shutdown());
  return service;
}

async function dropSchema(namespace: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
  await client.end();
}

function overlaps(runs: RunRecord[]): string[] {
  const executed = runs
    .filter((run) => run.started_at && run.ended_at && run.status !== 'skipped')
    .sort((a, b) => Date.parse(a.started_at ?? '') - Date.parse(b.started_at ?? ''));
  const problems: string[] = [];
  for (let index = 1; index < executed.length; index += 1) {
    const previous = executed[index - 1];
    const current = executed[index];
    if (
      previous &&
      current &&
      Date.parse(current.started_at ?? '') < Date.parse(previous.ended_at ?? '')
    ) {
      problems.push(`${previous.run_id} and ${current.run_id}`);
    }
  }
  return problems;
}

describe.skipIf(unavailable !== undefined && process.env.CI !== 'true')(
  'two processes on one Postgres store',
  () => {
    it('is reachable in CI', () => {
      expect(unavailable).toBeUndefined();
    });

    it('never runs a tick twice nor overlaps an agent; a pause from a third process is obeyed by both', async () => {
      const namespace = uniqueName('ns_multi');
      cleanups.push(() => dropSchema(namespace));
      const control = inspector(namespace);
      const agents = ['alpha', 'bravo', 'charlie'];
      for (const agentId of agents) {
        await control.create({
          agent_id: agentId,
          interval: 0.2,
          // Each run takes longer than the interval: without the cluster-wide lease, runs would overlap.
          model_config: { provider: 'scripted', script: [{ delay: 0.3, answer: `${agentId} ok` }] },
          task_config: { query: 'q' },
        });
        await control.startAgent(agentId);
      }
      const environment = {
        NIGHTSHIFT_TEST_URL: url,
        NIGHTSHIFT_TEST_NAMESPACE: namespace,
        NIGHTSHIFT_TEST_LEASE_TTL_MS: '1500',
      };
      const managers: ManagerProcess[] = await Promise.all([
        startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'manager-1' }),
        startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'manager-2' }),
      ]);
      cleanups.push(async () => Promise.all(managers.map((manager) => manager.stop())));

      await waitFor(
        async () => {
          const statuses = await control.listAgents();
          return statuses.every((status) => status.run_count >= 3 && status.skip_count >= 2);
        },
        { timeoutMs: 20_000 },
      );

      // Both processes took part: each recorded some runs' events.
      const starts = await control.readEvents({ limit: 10_000 });
      expect(starts.some((event) => event.type === 'background_task_started')).toBe(true);

      await control.pauseAgent('alpha');
      const frozenAt = (await control.listRuns('alpha', { limit: 1000 })).length;
      await waitFor(async () => (await control.getAgentStatus('bravo')).run_count >= 6, {
        timeoutMs: 20_000,
      });
      await waitFor(async () => (await control.getAgentStatus('alpha')).running_runs === 0, {
        timeoutMs: 5_000,
      });
      const afterPause = await control.listRuns('alpha', { limit: 1000 });
      // At most the run already in flight when the pause was acknowledged may have finished since.
      expect(afterPause.length).toBeLessThanOrEqual(frozenAt);

      const exitCodes = await Promise.all(managers.map((manager) => manager.stop()));
      expect(exitCodes).toEqual([0, 0]);

      for (const agentId of agents) {
        const runs = await control.listRuns(agentId, { limit: 1000 });
        const ticks = runs.map((run) => run.scheduled_at);
        expect(new Set(ticks).size).toBe(ticks.length);
        expect(overlaps(runs)).toEqual([]);
        expect(
          runs.every((run) => ['completed', 'skipped', 'interrupted'].includes(run.status)),
        ).toBe(true);
      }
    }, 60_000);

    it('streams events another process emits, in order and without gaps', async () => {
      const namespace = uniqueName('ns_events');
      cleanups.push(() => dropSchema(namespace));
      const control = inspector(namespace);
      await control.create({
        agent_id: 'talker',
        interval: 0.1,
        model_config: { provider: 'scripted', script: [{ answer: 'hello' }] },
        task_config: { query: 'q' },
      });
      await control.startAgent('talker');
      const seen: NightshiftEvent[] = [];
      const controller = new AbortController();
      cleanups.push(async () => controller.abort());
      const reading = (async () => {
        for await (const event of control.streamAgentEvents('talker', {
          signal: controller.signal,
        }))
          seen.push(event);
      })();
      const manager = await startManager({
        NIGHTSHIFT_TEST_URL: url,
        NIGHTSHIFT_TEST_NAMESPACE: namespace,
      });
      cleanups.push(() => manager.stop());
      await waitFor(
        () => seen.filter((event) => event.type === 'background_task_completed').length >= 5,
        { timeoutMs: 20_000 },
      );
      await manager.stop();
      controller.abort();
      await reading;
      const stored = await control.readEvents({ agent_id: 'talker', limit: 10_000 });
      const fromStream = seen.map((event) => event.id);
      const storedIds = stored
        .map((event) => event.id)
        .filter(
          (id) => Number(id) >= Number(fromStream[0]) && Number(id) <= Number(fromStream.at(-1)),
        );
      expect(fromStream).toEqual(storedIds);
    }, 60_000);
  },
);
