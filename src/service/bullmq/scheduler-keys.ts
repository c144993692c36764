/**
 * The Redis keys the BullMQ scheduler keeps beside BullMQ's own, under the same prefix and
 * queue name. BullMQ's keys are `<prefix>:<queue>:<suffix or job id>`; job ids never contain
 * `:` (BullMQ refuses them) and its suffixes are single words, so `nightshift:` keys cannot
 * collide with them.
 */
export interface SchedulerKeys {
  /** The newest tick of an agent accounted for (fired, missed or caught up), epoch ms. */
  cursor: (agentId: string) => string;
  /** The job id of an agent's `run_at` tick, while one is queued. */
  oneShot: (agentId: string) => string;
  /** Hash: worker id → its heartbeat record. */
  workers: string;
  /** Held by the one worker that reconciles in a period. */
  reconcileLock: string;
}

/** The keys of one queue. */
export function schedulerKeys(prefix: string, queueName: string): SchedulerKeys {
  const base = `${prefix}:${queueName}:nightshift`;
  return {
    cursor: (agentId) => `${base}:cursor:${agentId}`,
    oneShot: (agentId) => `${base}:one-shot:${agentId}`,
    workers: `${base}:workers`,
    reconcileLock: `${base}:reconcile-lock`,
  };
}
