import type { TaskConfig } from '../config/agent-definition.js';
import { backoffDelayMs } from '../shared/backoff.js';

/** Milliseconds to wait before attempt `nextAttempt` (2 = the first retry). */
export function retryDelayMs(task: TaskConfig, nextAttempt: number): number {
  return backoffDelayMs(nextAttempt - 1, {
    firstMs: task.retry_delay * 1000,
    maxMs: task.max_retry_delay * 1000,
    factor: task.retry_backoff === 'exponential' ? 2 : 1,
  });
}
