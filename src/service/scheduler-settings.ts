import { NightshiftError } from '../errors.js';
import { createBullmqScheduler, type BullmqSchedulerOptions } from './bullmq/index.js';
import { LocalScheduler } from './local-scheduler.js';
import type { Partition } from './partition.js';
import type { TickSchedulerFactory } from './tick-scheduler.js';

/**
 * A scheduler described as data (as a Nightshift file or an HTTP body would): in-process timers,
 * or BullMQ on Redis for a fleet on many processes.
 */
export type SchedulerSettings = { kind: 'local' } | ({ kind: 'bullmq' } & BullmqSchedulerOptions);

/**
 * The factory the service's `scheduler` option stands for (default: in-process timers, of the
 * agents of `partition` only when one is given: a distributed scheduler shares its queue instead).
 */
export function schedulerFactoryFor(
  option: TickSchedulerFactory | SchedulerSettings | undefined,
  partition?: Partition,
): TickSchedulerFactory {
  if (
    partition &&
    option !== undefined &&
    (typeof option === 'function' || option.kind !== 'local')
  ) {
    throw new NightshiftError(
      'config_invalid',
      "partition: splits the in-process scheduler's timers between managers; a distributed scheduler shares its queue between workers instead",
      { fields: [{ path: 'partition', message: 'needs the in-process scheduler' }] },
    );
  }
  if (typeof option === 'function') return option;
  if (option?.kind === 'bullmq') {
    const { kind: _kind, ...options } = option;
    return createBullmqScheduler(options);
  }
  return (target, now, context) => new LocalScheduler(target, now, context, partition);
}
