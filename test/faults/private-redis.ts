import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/wait-for.js';
import { probeRedis } from '../storage/redis-server.js';
import { freePort } from './free-port.js';

/** A redis-server this suite started and owns: it may kill it without disturbing anyone else. */
export interface PrivateRedis {
  readonly url: string;
  /** Closes every client connection (`CLIENT KILL TYPE normal`); returns how many were closed. */
  cutConnections(): Promise<number>;
  /** Kills the server at once (SIGKILL, no shutdown save), leaving it down until `start()`. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data directory; resolves once it answers. */
  start(): Promise<void>;
  /** Kills the server and removes its data directory; idempotent. */
  stop(): Promise<void>;
}

/** Why a private Redis cannot be started here, or undefined when `redis-server` runs. */
export function redisServerMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) return `redis-server is not on PATH (${probe.error.message})`;
  return probe.status === 0 ? undefined : `redis-server --version exited with ${probe.status}`;
}

/**
 * Starts a redis-server on a free port with an append-only file synced on every write: a
 * restart then keeps every write Redis acknowledged, as a production Redis configured for
 * durability would (without it, a restart loses everything and the promises checked after
 * it would be about an empty store).
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-fault-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let stopped = false;

  const start = async (): Promise<void> => {
    if (stopped) throw new Error('the private Redis was stopped');
    let output = '';
    const started = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        directory,
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = started;
    await waitFor(
      async () => {
        if (started.exitCode !== null) {
          throw new Error(`redis-server exited with ${started.exitCode}: ${output}`);
        }
        return (await probeRedis(url)).available;
      },
      { timeoutMs: 15_000, intervalMs: 25, what: `the private redis-server on port ${port}` },
    );
  };

  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    url,
    async cutConnections() {
      const admin = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      admin.on('error', () => undefined);
      try {
        // SKIPME defaults to yes: the admin connection itself survives to read the answer.
        return Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal'));
      } finally {
        admin.disconnect();
      }
    },
    kill,
    start,
    async stop() {
      stopped = true;
      await kill();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
