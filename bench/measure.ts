/** Small measuring helpers shared by the suites. */
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Bytes to mebibytes. */
export function megabytes(bytes: number): number {
  return bytes / 1024 / 1024;
}

/** The nearest-rank percentile (0–100) of the values; NaN when there are none. */
export function percentile(values: readonly number[], rank: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1),
  );
  return sorted[index] ?? Number.NaN;
}

/** Runs `work` over every item, `size` at a time (Promise.all per chunk). */
export async function inChunks<T>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map(work));
  }
}

/** Milliseconds `work` took, and what it returned. */
export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

/** Collects garbage when the process runs with `--expose-gc`; false otherwise. */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  // Twice: the first pass can leave objects that only become garbage after finalizers ran.
  gc();
  gc();
  return true;
}

/** Prints a progress line on stderr (seconds since this process started), so figures on stdout stay clean. */
export function progress(message: string): void {
  process.stderr.write(`  … ${(performance.now() / 1000).toFixed(1).padStart(5)} s  ${message}\n`);
}

/**
 * Event-loop lag: how late a 20 ms interval fires, sampled until `stop()`. (Unlike
 * `monitorEventLoopDelay`, it also sees a timers phase that never yields.)
 */
export class LagSampler {
  static readonly PERIOD_MS = 20;
  readonly #lags: number[] = [];
  readonly #timer: NodeJS.Timeout;
  #last = performance.now();

  constructor() {
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#lags.push(Math.max(0, now - this.#last - LagSampler.PERIOD_MS));
      this.#last = now;
    }, LagSampler.PERIOD_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** A percentile (0–100) of the lags seen, in milliseconds. */
  percentile(rank: number): number {
    return percentile(this.#lags, rank);
  }
}
