import { NightshiftError } from '../../errors.js';
import { resolveRedisUrl } from '../../storage/index.js';
import { checkRedisUrl } from '../../storage/redis/index.js';
import type { TickSchedulerFactory } from '../tick-scheduler.js';
import { BullmqScheduler } from './bullmq-scheduler.js';
import type {
  BullmqSchedulerOptions,
  ResolvedBullmqSchedulerOptions,
} from './bullmq-scheduler-options.js';

/**
 * The BullMQ scheduler, for the service's `scheduler` option: every process with
 * `startManager()` runs a BullMQ worker that executes runs (`concurrency` at a time); any other
 * process uses the factory's `producer` side to schedule, pause and enqueue manual runs without
 * executing anything. Nothing connects until the service first needs the scheduler.
 */
export function createBullmqScheduler(options: BullmqSchedulerOptions = {}): TickSchedulerFactory {
  const resolved = resolveOptions(options);
  const factory: TickSchedulerFactory = (target, now, context) =>
    new BullmqScheduler(resolved, context, now, target);
  factory.producer = (now, context) => new BullmqScheduler(resolved, context, now);
  return factory;
}

function resolveOptions(options: BullmqSchedulerOptions): ResolvedBullmqSchedulerOptions {
  const url = resolveRedisUrl(options.url, options.env);
  checkRedisUrl(url);
  const queueName = options.queueName ?? 'nightshift';
  const prefix = options.prefix ?? 'nightshift';
  for (const [field, value] of [
    ['queueName', queueName],
    ['prefix', prefix],
  ] as const) {
    if (value === '' || value.includes(':')) {
      const message = 'must be a non-empty name without ":"';
      throw new NightshiftError('config_invalid', `scheduler.${field}: ${message}`, {
        fields: [{ path: `scheduler.${field}`, message }],
      });
    }
  }
  return {
    url,
    queueName,
    prefix,
    concurrency: positive('concurrency', options.concurrency, 50, true),
    reconcileIntervalMs: positive('reconcileIntervalMs', options.reconcileIntervalMs, 30_000),
    heartbeatIntervalMs: optionalPositive('heartbeatIntervalMs', options.heartbeatIntervalMs),
    lockDurationMs: optionalPositive('lockDurationMs', options.lockDurationMs),
    stalledIntervalMs: optionalPositive('stalledIntervalMs', options.stalledIntervalMs),
    maxStalledCount: positive('maxStalledCount', options.maxStalledCount, 1, true, true),
  };
}

function optionalPositive(field: string, value: number | undefined): number | undefined {
  return value === undefined ? undefined : positive(field, value, value);
}

function positive(
  field: string,
  value: number | undefined,
  fallback: number,
  integer = false,
  allowZero = false,
): number {
  const chosen = value ?? fallback;
  const valid =
    Number.isFinite(chosen) &&
    (allowZero ? chosen >= 0 : chosen > 0) &&
    (!integer || Number.isInteger(chosen));
  if (!valid) {
    const message = `must be ${integer ? 'a whole number' : 'a number'} ${allowZero ? 'of 0 or more' : 'greater than 0'}`;
    throw new NightshiftError('config_invalid', `scheduler.${field}: ${message}`, {
      fields: [{ path: `scheduler.${field}`, message }],
    });
  }
  return chosen;
}
