import { DEFAULTS } from '../../config/defaults.js';
import {
  createSchedule,
  parseIsoInstant,
  scheduleSpecOf,
  type Schedule,
  type ScheduleSpec,
} from '../../schedule/index.js';
import type { AgentRecord } from '../../storage/contracts/index.js';

/**
 * An agent's schedule as its jobs carry it: enough for any worker to derive a tick's nominal
 * time, its jitter and its misfire grace without reading the store, identically everywhere.
 */
export interface ScheduleSnapshot extends ScheduleSpec {
  /** Interval ticks fall on `anchor_at + k × interval`, k ≥ 1. */
  anchor_at: string;
  /** Seconds (see `jitterOffsetMs`). */
  jitter: number;
  /** Seconds a tick may be late and still run. */
  misfire_grace: number;
}

/** The snapshot of a stored agent's schedule. */
export function snapshotOf(record: AgentRecord): ScheduleSnapshot {
  const { definition } = record;
  return {
    ...scheduleSpecOf(definition),
    anchor_at: record.anchor_at ?? record.created_at,
    jitter: definition.jitter,
    misfire_grace: definition.misfire_grace,
  };
}

/** A stable text of everything in a snapshot that decides when ticks fire (equal keys: same jobs). */
export function snapshotKey(snapshot: ScheduleSnapshot): string {
  return JSON.stringify([
    snapshot.interval ?? null,
    snapshot.cron ?? null,
    snapshot.timezone ?? null,
    snapshot.run_at ?? null,
    snapshot.start_at ?? null,
    snapshot.end_at ?? null,
    snapshot.anchor_at,
    snapshot.jitter,
    snapshot.misfire_grace,
  ]);
}

/** Misfire grace of a job without a snapshot (an older job, a hand-made one). */
export const DEFAULT_MISFIRE_GRACE_SECONDS = DEFAULTS.misfire_grace;

/** Schedules built per snapshot, kept because building a cron schedule parses its pattern. */
const built = new Map<string, Schedule>();
const BUILT_LIMIT = 10_000;

/** The schedule a snapshot describes (the same fire times as the local scheduler's). */
export function scheduleOfSnapshot(snapshot: ScheduleSnapshot): Schedule {
  const key = snapshotKey(snapshot);
  let schedule = built.get(key);
  if (!schedule) {
    schedule = createSchedule(scheduleSpecOf(snapshot), { anchor: new Date(snapshot.anchor_at) });
    // Old agents' schedules are dropped wholesale: rebuilding one costs microseconds.
    if (built.size >= BUILT_LIMIT) built.clear();
    built.set(key, schedule);
  }
  return schedule;
}

/** The one fire time of a `run_at` snapshot (undefined for interval and cron ones). */
export function runAtOf(snapshot: ScheduleSnapshot): Date | undefined {
  return snapshot.run_at === undefined ? undefined : parseIsoInstant(snapshot.run_at, 'UTC');
}
