import { Counter, Gauge, type Registry } from 'prom-client';
import { RETENTION_KINDS, type RetentionStats } from '../../service/index.js';

/**
 * The retention sweep's metrics, from the service's running totals at each scrape: what the
 * sweeps of this process removed, by kind, how many sweeps ran or failed, and how the last went.
 */
export class RetentionMetrics {
  readonly #removed: Counter<'kind'>;
  readonly #sweeps: Counter;
  readonly #failures: Counter;
  readonly #lastSweep: Gauge;
  readonly #lastComplete: Gauge;
  /** The totals already counted, so each scrape adds only what is new. */
  #seen: RetentionStats | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#removed = new Counter({
      name: 'nightshift_retention_removed_total',
      help: "What this process's retention sweeps (and pruneNow) removed, by kind: runs (with their steps), events, messages.",
      labelNames: ['kind'],
      registers,
    });
    this.#sweeps = new Counter({
      name: 'nightshift_retention_sweeps_total',
      help: 'Retention sweeps this process ran to their end (a periodic sweep or a prune).',
      registers,
    });
    this.#failures = new Counter({
      name: 'nightshift_retention_sweep_failures_total',
      help: 'Retention sweeps of this process that failed (the next one tries again).',
      registers,
    });
    this.#lastSweep = new Gauge({
      name: 'nightshift_retention_last_sweep_timestamp_seconds',
      help: "When this process's last retention sweep ended (Unix seconds; 0 before the first).",
      registers,
    });
    this.#lastComplete = new Gauge({
      name: 'nightshift_retention_last_sweep_complete',
      help: 'Whether the last retention sweep removed all that was due (1), or stopped at its batch budget and the next goes on (0).',
      registers,
    });
    for (const kind of RETENTION_KINDS) this.#removed.inc({ kind }, 0);
    this.#lastComplete.set(1);
  }

  /** Moves the metrics to the service's totals now. */
  record(stats: RetentionStats): void {
    const seen = this.#seen;
    for (const kind of RETENTION_KINDS) {
      const added = stats.removed[kind] - (seen?.removed[kind] ?? 0);
      if (added > 0) this.#removed.inc({ kind }, added);
    }
    const sweeps = stats.sweeps - (seen?.sweeps ?? 0);
    if (sweeps > 0) this.#sweeps.inc(sweeps);
    const failures = stats.failures - (seen?.failures ?? 0);
    if (failures > 0) this.#failures.inc(failures);
    this.#lastSweep.set(stats.last_sweep_at === null ? 0 : Date.parse(stats.last_sweep_at) / 1000);
    this.#lastComplete.set(stats.last_sweep_complete ? 1 : 0);
    this.#seen = stats;
  }
}
