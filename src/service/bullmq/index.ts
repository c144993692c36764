/**
 * The distributed scheduler: BullMQ job schedulers on Redis dispatch ticks to any number of
 * worker processes. BullMQ itself is loaded only when a scheduler is first used.
 */
export { createBullmqScheduler } from './create-bullmq-scheduler.js';
export type { BullmqSchedulerOptions } from './bullmq-scheduler-options.js';
export { BullmqScheduler } from './bullmq-scheduler.js';
export {
  createRedisModelRequestLimiter,
  type RedisModelRequestLimiterOptions,
} from './redis-model-request-limiter.js';
