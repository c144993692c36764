import os from 'node:os';
import type { Redis } from 'ioredis';
import type { WorkerInfo } from '../tick-scheduler.js';

/** A worker's entry: what `listWorkers()` shows, and until when it counts as alive. */
interface WorkerEntry extends WorkerInfo {
  /** Epoch ms after which a worker that wrote no newer heartbeat is taken for dead. */
  expires_at: number;
}

/** Heartbeats missed before a worker drops out of the registry. */
const MISSED_HEARTBEATS = 3;

/**
 * The heartbeat registry of worker processes: one Redis hash, one field per worker, rewritten
 * every heartbeat (so it comes back by itself if Redis lost its data). Readers skip and remove
 * entries whose worker stopped beating, killed without a chance to remove its own.
 */
export class WorkerRegistry {
  readonly #client: Promise<Redis>;
  readonly #key: string;

  /** `client`: the scheduler's connection, once ioredis is loaded. */
  constructor(client: Promise<Redis>, key: string) {
    this.#client = client;
    this.#key = key;
  }

  /** Writes (or rewrites) a worker's entry. */
  async beat(
    workerId: string,
    startedAt: Date,
    runningRuns: string[],
    intervalMs: number,
  ): Promise<void> {
    const now = Date.now();
    const entry: WorkerEntry = {
      worker_id: workerId,
      host: os.hostname(),
      pid: process.pid,
      started_at: startedAt.toISOString(),
      last_heartbeat: new Date(now).toISOString(),
      running_runs: runningRuns,
      expires_at: now + MISSED_HEARTBEATS * intervalMs,
    };
    await (await this.#client).hset(this.#key, workerId, JSON.stringify(entry));
  }

  /** Removes a worker's entry (a clean shutdown). */
  async remove(workerId: string): Promise<void> {
    await (await this.#client).hdel(this.#key, workerId);
  }

  /** The live workers, by id; entries of dead ones are removed on the way. */
  async list(): Promise<WorkerInfo[]> {
    const now = Date.now();
    const client = await this.#client;
    const entries = await client.hgetall(this.#key);
    const alive: WorkerInfo[] = [];
    const dead: string[] = [];
    for (const [workerId, text] of Object.entries(entries)) {
      const entry = parseEntry(text);
      if (!entry || entry.expires_at < now) {
        dead.push(workerId);
        continue;
      }
      const { expires_at: _expiresAt, ...info } = entry;
      alive.push(info);
    }
    if (dead.length > 0) await client.hdel(this.#key, ...dead);
    return alive.sort((a, b) => a.worker_id.localeCompare(b.worker_id));
  }
}

function parseEntry(text: string): WorkerEntry | undefined {
  try {
    const entry = JSON.parse(text) as Partial<WorkerEntry>;
    return typeof entry.worker_id === 'string' && typeof entry.expires_at === 'number'
      ? (entry as WorkerEntry)
      : undefined;
  } catch {
    return undefined;
  }
}
