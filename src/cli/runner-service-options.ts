import type { ServiceSections } from '../config/nightshift-file.js';
import type { BackgroundAgentServiceOptions, ServiceLogger } from '../service/index.js';

/** The flags every process that runs agents takes (`nightshift run`, `nightshift worker`). */
export interface RunnerFlags {
  /** Seconds runs in flight get to finish after SIGINT / SIGTERM before they end `interrupted`. */
  shutdownTimeout: number;
  /** Seconds a run's lease lasts without renewal: how soon another process recovers it. */
  leaseTtl: number;
}

/** The flags of a process that runs a fleet for a long time. */
export interface FleetProcessFlags extends RunnerFlags {
  /** `--heap-growth`: percent the heap may grow past its live size before a full collection (0: V8's choice). */
  heapGrowth: number;
}

/** The service options a process that runs agents takes from its Nightshift file and flags. */
export function runnerServiceOptions(
  config: Pick<
    ServiceSections,
    'secrets' | 'toolSettings' | 'pricing' | 'budgets' | 'notifications' | 'retention' | 'telemetry'
  >,
  flags: RunnerFlags,
  env: Record<string, string | undefined>,
  logger: ServiceLogger,
): BackgroundAgentServiceOptions {
  return {
    env,
    leaseTtlMs: flags.leaseTtl * 1000,
    shutdownTimeoutMs: flags.shutdownTimeout * 1000,
    // Values the file took from the environment stay out of events and run records too.
    secrets: config.secrets,
    toolSettings: config.toolSettings,
    pricing: config.pricing,
    budgets: config.budgets,
    ...(config.notifications ? { notifications: config.notifications } : {}),
    retention: config.retention,
    ...(config.telemetry ? { telemetry: config.telemetry } : {}),
    logger,
  };
}
