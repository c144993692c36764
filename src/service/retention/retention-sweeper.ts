import type { RetentionSettings } from '../../config/retention.js';
import { retentionSchema } from '../../config/retention.js';
import { issuesToFieldErrors } from '../../config/format-issues.js';
import { NightshiftError } from '../../errors.js';
import type { ServiceContext } from '../service-context.js';
import type { BackgroundAgentServiceOptions } from '../service-options.js';
import {
  noCounts,
  RETENTION_KINDS,
  type PruneReport,
  type RetentionCounts,
} from './retention-counts.js';
import { retentionTargets } from './retention-plan.js';
import { sweepRetention } from './sweep-retention.js';

/** How often a manager sweeps when `retentionIntervalMs` is not given: every 10 minutes. */
export const DEFAULT_RETENTION_INTERVAL_MS = 10 * 60_000;
/** Store calls per kind and agent in one periodic sweep: it never runs long, the next goes on. */
export const SWEEP_BATCHES = 10;

/** What this process's sweeps have done since it started (for `/metrics`). */
export interface RetentionStats {
  /** Items removed by this process's sweeps and `pruneNow` calls. */
  removed: RetentionCounts;
  /** Sweeps that ended, and those that failed. */
  sweeps: number;
  failures: number;
  /** When the last sweep ended (ISO); null before the first. */
  last_sweep_at: string | null;
  /** Whether the last sweep removed everything due (false: it stopped at its batch budget). */
  last_sweep_complete: boolean;
}

function invalidOption(name: string, expected: string, value: unknown): NightshiftError {
  const message = `must be ${expected}, got ${String(value)}`;
  return new NightshiftError('config_invalid', `${name}: ${message}`, {
    fields: [{ path: name, message }],
  });
}

/** The fleet-wide `retention` option, checked: `config_invalid` naming the field (`retention.runs_days`). */
export function checkRetention(input: unknown): RetentionSettings {
  const parsed = retentionSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const fields = issuesToFieldErrors(parsed.error.issues, ['retention'], retentionSchema);
  throw new NightshiftError(
    'config_invalid',
    `invalid retention: ${fields.map((field) => `${field.path}: ${field.message}`).join('; ')}`,
    { fields },
  );
}

/**
 * Retention in a manager: a periodic, bounded sweep of ended runs, events and conversation
 * messages (each agent's `retention` over the fleet's), and `pruneNow` on demand. Several
 * managers may sweep one store at once: each removal is idempotent and counted once.
 */
export class RetentionSweeper {
  readonly #context: ServiceContext;
  readonly #settings: RetentionSettings;
  readonly #intervalMs: number;
  readonly #batchSize: number | undefined;
  readonly #stats: RetentionStats = {
    removed: noCounts(),
    sweeps: 0,
    failures: 0,
    last_sweep_at: null,
    last_sweep_complete: true,
  };
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<unknown> | undefined;

  constructor(
    context: ServiceContext,
    options: Pick<
      BackgroundAgentServiceOptions,
      'retention' | 'retentionIntervalMs' | 'retentionBatchSize'
    >,
  ) {
    this.#context = context;
    this.#settings = checkRetention(options.retention);
    this.#intervalMs = options.retentionIntervalMs ?? DEFAULT_RETENTION_INTERVAL_MS;
    if (!(Number.isFinite(this.#intervalMs) && this.#intervalMs > 0)) {
      throw invalidOption(
        'retentionIntervalMs',
        'a positive number of milliseconds',
        this.#intervalMs,
      );
    }
    this.#batchSize = options.retentionBatchSize;
    if (
      this.#batchSize !== undefined &&
      !(Number.isSafeInteger(this.#batchSize) && this.#batchSize > 0)
    ) {
      throw invalidOption('retentionBatchSize', 'a positive whole number', this.#batchSize);
    }
  }

  /** Sweeps every interval from now on (a manager's); a sweep still going is not doubled. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#sweeping || this.#context.shuttingDown) return;
      this.#context.background(this.sweep(), 'retention sweep');
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops sweeping; resolves once a sweep under way has ended. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping?.catch(() => undefined);
  }

  /** One periodic sweep: at most {@link SWEEP_BATCHES} store calls per kind and agent. */
  sweep(): Promise<PruneReport> {
    return this.#run({ dry_run: false, maxBatches: SWEEP_BATCHES });
  }

  /** Sweeps now, to the end (or, with `dry_run`, counts what would go). */
  pruneNow(options: { dry_run?: boolean } = {}): Promise<PruneReport> {
    return this.#run({ dry_run: options.dry_run === true });
  }

  /** What this process's sweeps have removed, and how the last one went. */
  stats(): RetentionStats {
    return structuredClone(this.#stats);
  }

  #run(options: { dry_run: boolean; maxBatches?: number }): Promise<PruneReport> {
    const work = this.#sweepOnce(options);
    if (!options.dry_run) {
      const tracked = work.finally(() => {
        if (this.#sweeping === tracked) this.#sweeping = undefined;
      });
      this.#sweeping = tracked;
      tracked.catch(() => undefined);
    }
    return work;
  }

  async #sweepOnce(options: { dry_run: boolean; maxBatches?: number }): Promise<PruneReport> {
    const context = this.#context;
    try {
      const connection = await context.connect();
      const now = context.now();
      const records = await connection.store.agents.list();
      const report = await sweepRetention(
        connection,
        retentionTargets(records, this.#settings, now),
        {
          ...options,
          ...(this.#batchSize === undefined ? {} : { batchSize: this.#batchSize }),
          sweptAt: now,
          onRemoved: (kind, count) => (this.#stats.removed[kind] += count),
        },
      );
      if (!options.dry_run) {
        this.#stats.sweeps += 1;
        this.#stats.last_sweep_at = context.now().toISOString();
        this.#stats.last_sweep_complete = report.complete;
        const removed = RETENTION_KINDS.map((kind) => `${report.totals[kind]} ${kind}`).join(', ');
        if (report.totals.runs + report.totals.events + report.totals.messages > 0)
          context.logger.info(
            { removed: report.totals },
            `nightshift: retention removed ${removed}`,
          );
      }
      return report;
    } catch (error) {
      if (!options.dry_run) this.#stats.failures += 1;
      throw error;
    }
  }
}
