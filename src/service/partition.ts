import { NightshiftError, type FieldError } from '../errors.js';

/**
 * A manager's share of the fleet's schedules (`partition` of the service options): this manager
 * arms the timers of the agents whose {@link partitionOf} is `index`, of `count` managers on one
 * store (`nightshift run --processes N`). Only ticks are partitioned: manual runs, recovery of
 * dead runs, waking waiting runs, timed pauses and retention stay fleet-wide (the store's
 * compare-and-set decides who does each, once).
 */
export interface Partition {
  /** This manager's share, from 0. */
  index: number;
  /** How many managers share the fleet. */
  count: number;
}

const encoder = new TextEncoder();

/** The most managers one fleet is split between. */
export const MAX_PARTITIONS = 1_024;

/**
 * The partition an agent belongs to of `count`: FNV-1a (32 bits) of its id's UTF-8 bytes, mixed
 * by MurmurHash3's finalizer (FNV's low bits alone follow the last byte: `agent-1`, `agent-3`
 * would share a partition of 2), mod `count`. Stable across processes, machines and releases:
 * every manager agrees without talking.
 */
export function partitionOf(agentId: string, count: number): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(agentId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % count;
}

/** True when the manager of `partition` arms the agent's timers (always, without a partition). */
export function ownsAgent(partition: Partition | undefined, agentId: string): boolean {
  return partition === undefined || partitionOf(agentId, partition.count) === partition.index;
}

/** Checks the `partition` option; `config_invalid` names each bad field (`partition.index`). */
export function checkPartition(input: unknown): Partition | undefined {
  if (input === undefined) return undefined;
  const fields: FieldError[] = [];
  if (typeof input !== 'object' || input === null) {
    fields.push({ path: 'partition', message: 'must be an object { index, count }' });
  } else {
    const { index, count } = input as Record<string, unknown>;
    const countOk =
      typeof count === 'number' && Number.isInteger(count) && count >= 1 && count <= MAX_PARTITIONS;
    if (!countOk) {
      fields.push({
        path: 'partition.count',
        message: `must be a whole number from 1 to ${MAX_PARTITIONS} (got ${String(count)})`,
      });
    }
    if (
      typeof index !== 'number' ||
      !Number.isInteger(index) ||
      index < 0 ||
      (countOk && index >= count)
    ) {
      fields.push({
        path: 'partition.index',
        message: `must be a whole number from 0 to count - 1 (got ${String(index)})`,
      });
    }
    if (fields.length === 0) return { index: index as number, count: count as number };
  }
  const described = fields.map((field) => `${field.path}: ${field.message}`).join('; ');
  throw new NightshiftError('config_invalid', described, { fields });
}
