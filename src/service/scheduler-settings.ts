import { createBullmqScheduler, type BullmqSchedulerOptions } from './bullmq/index.js';
import { LocalScheduler } from './local-scheduler.js';
import type { TickSchedulerFactory } from './tick-scheduler.js';

/**
 * A scheduler described as data (as a Nightshift file or an HTTP body would): in-process timers,
 * or BullMQ on Redis for a fleet on many processes.
 */
export type SchedulerSettings = { kind: 'local' } | ({ kind: 'bullmq' } & BullmqSchedulerOptions);

/** The factory the service's `scheduler` option stands for (default: in-process timers). */
export function schedulerFactoryFor(
  option: TickSchedulerFactory | SchedulerSettings | undefined,
): TickSchedulerFactory {
  if (typeof option === 'function') return option;
  if (option?.kind === 'bullmq') {
    const { kind: _kind, ...options } = option;
    return createBullmqScheduler(options);
  }
  return (target, now, context) => new LocalScheduler(target, now, context);
}
