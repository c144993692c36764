import type { JobsOptions } from 'bullmq';
import type { ManualRunRequest, ResumeRequest } from '../tick-scheduler.js';
import type { ScheduleSnapshot } from './schedule-snapshot.js';

/** A tick as a BullMQ job carries it. */
export interface TickJobData {
  kind: 'tick';
  agent_id: string;
  /** The agent's version when the job (or its job scheduler) was made; a newer one wins. */
  version: number;
  /** Absent on jobs made before snapshots were carried; defaults then apply. */
  schedule?: ScheduleSnapshot;
  /**
   * The nominal time of a one-off tick (`run_at`, a catch-up, a first run at start). Iterations
   * of a job scheduler leave it out: theirs is in their job id (see {@link iterationMillis}).
   */
  scheduled_at?: string;
  /** Set when the job was delayed by its jitter: its tick is accounted for, it only has to run. */
  due_at?: number;
}

/** A manual run as a BullMQ job carries it. */
interface ManualJobData {
  kind: 'manual';
  request: ManualRunRequest;
}

/** A waiting run's next attempt as a BullMQ job carries it. */
interface ResumeJobData {
  kind: 'resume';
  request: ResumeRequest;
}

/** What the jobs of the Nightshift queue carry. */
export type NightshiftJobData = TickJobData | ManualJobData | ResumeJobData;

/** The name of tick jobs (and of every job a job scheduler makes). */
export const TICK_JOB_NAME = 'tick';
/** The name of manual-run jobs. */
export const MANUAL_JOB_NAME = 'manual';
/** The name of the jobs that continue a waiting run. */
export const RESUME_JOB_NAME = 'resume';

/** Failed jobs (a bug, not a run's failure) stay a while for inspection. */
const REMOVE_ON_FAIL = { age: 7 * 24 * 3600, count: 1_000 };

/**
 * Options of one-off ticks: they stay completed for ten minutes, so several processes enqueueing
 * the same catch-up or first run add one job. (A later duplicate is harmless: its run id is claimed.)
 */
export const ONE_OFF_TICK_OPTIONS: JobsOptions = {
  removeOnComplete: { age: 600, count: 10_000 },
  removeOnFail: REMOVE_ON_FAIL,
};

/** Options of manual runs and of the jobs a job scheduler makes: completed, they leave Redis at once. */
export const TRANSIENT_JOB_OPTIONS = { removeOnComplete: true, removeOnFail: REMOVE_ON_FAIL };

/*
 * Custom BullMQ job ids may not contain `:` and agent ids hold only letters, digits, `_` and `-`,
 * so `.` separates the parts unambiguously.
 */

/**
 * The job id of a one-off tick (`run_at`, a catch-up, a first run at start): deterministic, so
 * every process that enqueues the same tick adds one job.
 */
export function tickJobId(agentId: string, scheduledAt: Date): string {
  return `tick.${agentId}.${scheduledAt.getTime()}`;
}

/** The job id of a manual run. */
export function manualJobId(runId: string): string {
  return `manual.${runId}`;
}

/** The job id of a waiting run's next attempt: one job per run and attempt. */
export function resumeJobId(runId: string, attempt: number): string {
  return `resume.${runId.replace(/:/g, '_')}.${attempt}`;
}

/**
 * The fire time BullMQ gave an iteration of a job scheduler: the millis ending its job id
 * (`repeat:<scheduler id>:<millis>`), the same in every process. Undefined for other jobs.
 */
export function iterationMillis(jobId: string | undefined): number | undefined {
  const match = jobId ? /^repeat:.+:(\d+)$/.exec(jobId) : null;
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
