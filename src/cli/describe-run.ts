import { isTerminal, type RunRecord } from '../storage/index.js';
import { truncate } from './table.js';

/** Longest error message printed on a run's line (the record keeps all of it). */
const LONGEST_ERROR = 200;

/** `41 ms`, `2.5 s`, `3 min 20 s`. */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.max(0, milliseconds)} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)} s`;
  const seconds = Math.round(milliseconds / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** How long a run took, when it has started and ended. */
export function runDuration(run: RunRecord): string | undefined {
  if (!run.started_at || !run.ended_at) return undefined;
  return formatDuration(Date.parse(run.ended_at) - Date.parse(run.started_at));
}

/**
 * A run on one line: `monitor.manual-…: completed in 41 ms, 120 tokens`,
 * `…: failed (model_error: upstream said no) after 2.5 s`, `…: skipped (a run is in flight)`,
 * `…: running`.
 */
export function describeRun(run: RunRecord): string {
  const head = `${run.run_id}: ${run.status}`;
  const duration = runDuration(run);
  const attempts = run.attempts.length > 1 ? `, ${run.attempts.length} attempts` : '';
  if (run.status === 'completed') {
    return `${head} in ${duration ?? '?'}, ${run.usage.total_tokens} tokens${attempts}`;
  }
  if (run.status === 'skipped') return `${head} (${run.skip_reason ?? 'no reason recorded'})`;
  if (!isTerminal(run.status)) return head;
  const error = run.error
    ? ` (${truncate(`${run.error.code}: ${run.error.message}`, LONGEST_ERROR)})`
    : '';
  return `${head}${error}${duration ? ` after ${duration}` : ''}${attempts}`;
}
