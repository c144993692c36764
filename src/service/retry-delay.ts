import type { TaskConfig } from '../config/agent-definition.js';

/** Milliseconds to wait before attempt `nextAttempt` (2 = the first retry). */
export function retryDelayMs(task: TaskConfig, nextAttempt: number): number {
  const base = task.retry_delay * 1000;
  const delay =
    task.retry_backoff === 'exponential' ? base * 2 ** Math.max(0, nextAttempt - 2) : base;
  return Math.min(delay, task.max_retry_delay * 1000);
}
