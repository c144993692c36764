import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentDefinition } from '../../../src/config/agent-definition.js';
import type {
  DeliveryOutcome,
  ManualRunRequest,
  ResumeRequest,
  SchedulerContext,
  SchedulerTarget,
  TickScheduler,
} from '../../../src/service/tick-scheduler.js';
import { emptyStats, type AgentRecord } from '../../../src/storage/contracts/index.js';
import { waitFor } from '../../helpers/wait-for.js';
import { agentDefinition, agentRecord } from '../../storage/contracts/fixtures.js';

/** What a scheduler suite is told about the scheduler under test (never probed from its methods). */
export interface TickSchedulerCapabilities {
  /**
   * A distributed scheduler queues manual runs for a worker and lists its workers; an
   * in-process one hands manual runs back to the caller (`run_here`) and lists none.
   */
  distributed: boolean;
}

/** A scheduler under test, and what to throw away after it (its queue's keys, say). */
export interface SchedulerFixture {
  scheduler: TickScheduler;
  cleanup?(): Promise<void>;
}

/**
 * Makes a fresh scheduler for one test, wired to `target`, reading time from `now`, each call
 * in a namespace of its own (a scheduler made twice in a test never sees the other's ticks).
 */
export type SchedulerFixtureFactory = (
  target: SchedulerTarget,
  now: () => Date,
  context: SchedulerContext,
) => Promise<SchedulerFixture>;

/** One tick as the scheduler delivered it. */
interface DeliveredTick {
  agentId: string;
  /** The tick's nominal time, epoch ms. */
  scheduledAt: number;
  /** When `onTick` was called, epoch ms. */
  deliveredAt: number;
}

/**
 * The suite's probe: a `SchedulerTarget` that records every call the scheduler makes, and
 * answers `listAgents` with the records the test armed (as the service's store would).
 */
class RecordingTarget implements SchedulerTarget {
  readonly ticks: DeliveredTick[] = [];
  readonly manual: ManualRunRequest[] = [];
  readonly resumed: ResumeRequest[] = [];
  readonly missed: { agentId: string; missed: number; lastMissed: number }[] = [];
  readonly finished: string[] = [];
  readonly agents = new Map<string, AgentRecord>();
  readonly running = ['contract.running-run'];

  async onTick(agentId: string, scheduledAt: Date): Promise<DeliveryOutcome> {
    this.ticks.push({ agentId, scheduledAt: scheduledAt.getTime(), deliveredAt: Date.now() });
    return 'handled';
  }

  async onManual(request: ManualRunRequest): Promise<DeliveryOutcome> {
    this.manual.push(request);
    return 'handled';
  }

  async onResume(request: ResumeRequest): Promise<DeliveryOutcome> {
    this.resumed.push(request);
    return 'handled';
  }

  onMissed(agentId: string, missed: number, lastMissed: Date): void {
    this.missed.push({ agentId, missed, lastMissed: lastMissed.getTime() });
  }

  onFinished(agentId: string): void {
    this.finished.push(agentId);
  }

  runningRuns(): string[] {
    return this.running;
  }

  async listAgents(): Promise<AgentRecord[]> {
    return [...this.agents.values()];
  }

  /** The nominal times of the agent's delivered ticks, in delivery order. */
  ticksOf(agentId: string): number[] {
    return this.ticks.filter((tick) => tick.agentId === agentId).map((tick) => tick.scheduledAt);
  }
}

/** An active interval agent anchored now (or as `overrides` say). */
function intervalAgent(
  agentId: string,
  intervalSeconds: number,
  overrides: Partial<AgentRecord> = {},
  definition: Partial<AgentDefinition> = {},
): AgentRecord {
  const now = new Date().toISOString();
  return agentRecord(agentId, {
    state: 'active',
    anchor_at: now,
    created_at: now,
    updated_at: now,
    ...overrides,
    definition: { ...agentDefinition(agentId), interval: intervalSeconds, ...definition },
  });
}

const WAIT = { timeoutMs: 10_000, intervalMs: 10 };

/**
 * The contract every `TickScheduler` keeps, run against each one with its factory: ticks at the
 * schedule's nominal times, unschedule and replace, one-off ticks, manual runs, the misfire
 * plan, the worker listing, and silence after close.
 */
export function describeTickScheduler(
  name: string,
  makeScheduler: SchedulerFixtureFactory,
  capabilities: TickSchedulerCapabilities,
): void {
  describe(`${name} tick scheduler contract`, () => {
    const fixtures: SchedulerFixture[] = [];
    afterEach(async () => {
      for (const fixture of fixtures.splice(0).reverse()) {
        await fixture.scheduler.close();
        await fixture.cleanup?.();
      }
    });

    /** A scheduler of its own and its probe; `instanceId` is what it registers its worker as. */
    async function open() {
      const target = new RecordingTarget();
      const instanceId = `contract-${randomBytes(4).toString('hex')}`;
      const problems: object[] = [];
      const context: SchedulerContext = {
        instanceId,
        leaseTtlMs: 1_500,
        logger: { warn: () => undefined, error: (object) => problems.push(object) },
      };
      const fixture = await makeScheduler(target, () => new Date(), context);
      fixtures.push(fixture);
      const { scheduler } = fixture;
      /** Arms an agent, as the service does for a record it has stored. */
      const arm = (record: AgentRecord) => {
        target.agents.set(record.agent_id, record);
        return scheduler.schedule(record);
      };
      /** Disarms an agent, as the service does once the record is paused. */
      const disarm = (agentId: string) => {
        const record = target.agents.get(agentId);
        if (record) target.agents.set(agentId, { ...record, state: 'paused' });
        return scheduler.unschedule(agentId);
      };
      return { scheduler, target, instanceId, problems, arm, disarm };
    }

    /** Waits for `count` ticks of a marker agent: time enough for a stray delivery to show. */
    async function markTime(
      arm: (record: AgentRecord) => Promise<unknown>,
      target: RecordingTarget,
      count = 3,
    ): Promise<void> {
      await arm(intervalAgent('marker', 0.2));
      await waitFor(() => target.ticksOf('marker').length >= count, {
        ...WAIT,
        what: `${count} ticks of the marker agent`,
      });
    }

    it('delivers the ticks of an active interval agent at its nominal fire times', async () => {
      const { scheduler, target, problems, arm } = await open();
      const record = intervalAgent('alpha', 0.25);
      // (Ticks that passed while a scheduler was still connecting are missed, not delivered.)
      await arm(record);
      expect(scheduler.isScheduled('alpha')).toBe(true);
      await waitFor(() => target.ticksOf('alpha').length >= 3, { ...WAIT, what: 'three ticks' });

      const anchor = Date.parse(record.anchor_at ?? '');
      const ticks = target.ticksOf('alpha');
      expect(ticks.map((tick) => (tick - anchor) % 250)).toEqual(ticks.map(() => 0));
      expect(ticks[0]).toBeGreaterThan(anchor);
      expect(ticks).toEqual([...new Set(ticks)].sort((a, b) => a - b));
      expect(problems).toEqual([]);
    });

    it('stops the ticks on unschedule', async () => {
      const { scheduler, target, arm, disarm } = await open();
      await arm(intervalAgent('alpha', 0.2));
      await waitFor(() => target.ticksOf('alpha').length >= 1, { ...WAIT, what: 'a tick' });
      await disarm('alpha');
      const stoppedAt = Date.now();
      expect(scheduler.isScheduled('alpha')).toBe(false);

      await markTime(arm, target);
      expect(target.ticksOf('alpha').filter((tick) => tick > stoppedAt)).toEqual([]);
    });

    it('replaces the old schedule when an agent is scheduled again with a changed record', async () => {
      const { scheduler, target, arm } = await open();
      const first = intervalAgent('alpha', 0.25);
      await arm(first);
      await waitFor(() => target.ticksOf('alpha').length >= 1, { ...WAIT, what: 'a tick' });

      const changed = intervalAgent('alpha', 0.3, { version: 2 });
      await arm(changed);
      const replacedAt = Date.now();
      expect(scheduler.isScheduled('alpha')).toBe(true);
      const later = () => target.ticksOf('alpha').filter((tick) => tick > replacedAt);
      await waitFor(() => later().length >= 3, { ...WAIT, what: 'ticks of the new schedule' });

      const anchor = Date.parse(changed.anchor_at ?? '');
      expect(later().map((tick) => (tick - anchor) % 300)).toEqual(later().map(() => 0));
    });

    it('delivers a one-off tick with exactly its time, once', async () => {
      const { target, arm, scheduler } = await open();
      await arm(intervalAgent('alpha', 3_600));
      const at = new Date();
      await scheduler.enqueueTick('alpha', at);
      await waitFor(() => target.ticksOf('alpha').length >= 1, { ...WAIT, what: 'the tick' });

      await markTime(arm, target);
      expect(target.ticksOf('alpha')).toEqual([at.getTime()]);
    });

    it(
      capabilities.distributed
        ? 'queues a manual run and delivers it to a worker'
        : 'hands a manual run back to the caller to run here',
      async () => {
        const { target, arm, scheduler } = await open();
        const request: ManualRunRequest = {
          agent_id: 'alpha',
          run_id: `alpha.manual-${Date.now()}-contract`,
          query: 'Check the disk now.',
          requested_at: new Date().toISOString(),
        };
        if (capabilities.distributed) {
          expect(await scheduler.enqueueManual(request)).toBe('queued');
          await waitFor(() => target.manual.length >= 1, { ...WAIT, what: 'the manual run' });
        } else {
          expect(await scheduler.enqueueManual(request)).toBe('run_here');
        }
        await markTime(arm, target, 1);
        expect(target.manual).toEqual(capabilities.distributed ? [request] : []);
      },
    );

    it(
      capabilities.distributed
        ? 'queues a waiting run’s next attempt and delivers it to a worker'
        : 'hands a waiting run’s next attempt back to the caller to wake here',
      async () => {
        const { target, arm, scheduler } = await open();
        const request: ResumeRequest = {
          agent_id: 'alpha',
          run_id: `alpha.manual-${Date.now()}-resume`,
          attempt: 2,
        };
        if (capabilities.distributed) {
          // Every manager hearing the same decision asks; a worker wakes the run once whatever
          // number of deliveries reach it (the run is woken by a compare-and-set).
          const asked = await Promise.all([1, 2, 3].map(() => scheduler.enqueueResume(request)));
          expect(asked).toEqual(['queued', 'queued', 'queued']);
          await waitFor(() => target.resumed.length >= 1, { ...WAIT, what: 'the resume' });
        } else {
          expect(await scheduler.enqueueResume(request)).toBe('run_here');
        }
        await markTime(arm, target, 1);
        if (capabilities.distributed) {
          expect(target.resumed.length).toBeGreaterThanOrEqual(1);
          expect(target.resumed.length).toBeLessThanOrEqual(3);
          expect(new Set(target.resumed.map((entry) => JSON.stringify(entry)))).toEqual(
            new Set([JSON.stringify(request)]),
          );
        } else expect(target.resumed).toEqual([]);
      },
    );

    it('returns the misfire plan of an agent whose last tick was long ago', async () => {
      const { arm } = await open();
      const anchor = Date.now() - 630_000;
      const longAgo = {
        anchor_at: new Date(anchor).toISOString(),
        stats: { ...emptyStats(), last_scheduled_at: new Date(anchor).toISOString() },
      };
      // Ten ticks passed, a minute apart: all missed under `skip`, the newest run under `run_once`.
      const skipped = await arm(intervalAgent('alpha', 60, longAgo));
      expect(skipped).toMatchObject({ missed: 10, lastMissed: new Date(anchor + 600_000) });
      expect(skipped.catchUp).toBeUndefined();

      const caughtUp = await arm(
        intervalAgent('bravo', 60, longAgo, { misfire_policy: 'run_once', misfire_grace: 3_600 }),
      );
      expect(caughtUp).toMatchObject({
        missed: 9,
        lastMissed: new Date(anchor + 540_000),
        catchUp: new Date(anchor + 600_000),
      });
    });

    it(capabilities.distributed ? 'lists this worker' : 'lists no workers', async () => {
      const { scheduler, target, instanceId } = await open();
      if (!capabilities.distributed) {
        expect(await scheduler.listWorkers()).toEqual([]);
        return;
      }
      const worker = await waitFor(
        async () => (await scheduler.listWorkers()).find((entry) => entry.worker_id === instanceId),
        { ...WAIT, what: 'this worker in the listing' },
      );
      expect(worker).toMatchObject({ pid: process.pid, running_runs: target.running });
      expect(Date.parse(worker.last_heartbeat)).not.toBeNaN();
    });

    it('delivers nothing after close', async () => {
      const { scheduler, target, arm } = await open();
      await arm(intervalAgent('alpha', 0.2));
      await waitFor(() => target.ticksOf('alpha').length >= 1, { ...WAIT, what: 'a tick' });
      await scheduler.close();
      const closedAt = Date.now();

      // Another scheduler's ticks mark the time passing.
      const other = await open();
      await markTime(other.arm, other.target);
      expect(target.ticks.filter((tick) => tick.deliveredAt > closedAt)).toEqual([]);
    });
  });
}
