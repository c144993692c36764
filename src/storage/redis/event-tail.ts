import { setTimeout as delay } from 'node:timers/promises';
import { backoffDelayMs } from '../../shared/backoff.js';
import type { ErrorReporter } from '../report-error.js';
import { createRedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';
import type { StreamEntry } from './stream-entry.js';

/** Entries taken per XREAD. */
const READ_BATCH = 500;
/**
 * How long one XREAD blocks. Redis answers at least this often even when nothing is
 * appended, which lets the socket timeout below tell a quiet stream from a dead peer.
 */
const BLOCK_MS = 5_000;
const SOCKET_TIMEOUT_MS = 3 * BLOCK_MS;
const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 3_000;

/** Options of {@link startEventTail}. */
export interface EventTailOptions {
  url: string;
  /** The connection's name in `CLIENT LIST`. */
  connectionName: string;
  /** The log's keys (its connection is made like every other, scripts and all). */
  keys: RedisKeys;
  streamKey: string;
  /** The id to tail after; asked again until it answers. */
  start: () => Promise<string>;
  /** Awaited before each delivery (subscribers learning where they start). */
  beforeDelivery: () => Promise<unknown>;
  /** Hands over entries, in stream order, each once. */
  deliver: (entries: readonly StreamEntry[]) => void;
  onError: ErrorReporter;
}

/** A running tail of one stream. */
export interface EventTail {
  /** Stops tailing: drops its connection at once (a blocked XREAD cannot hold it). */
  stop(): Promise<void>;
}

/**
 * Tails a stream on a blocking connection of its own with `XREAD BLOCK`, from the last
 * delivered id. When the connection drops, ioredis reconnects and sends the pending
 * XREAD again with that same id, so whatever was appended meanwhile still arrives,
 * once; when a read fails outright (Redis gone for longer), the loop waits with backoff
 * and reads again from the same id.
 */
export function startEventTail(options: EventTailOptions): EventTail {
  const connection = createRedisConnection(options.url, {
    name: options.connectionName,
    keys: options.keys,
    socketTimeoutMs: SOCKET_TIMEOUT_MS,
  });
  const stopping = new AbortController();

  async function tail(): Promise<void> {
    let cursor: string | undefined;
    let failures = 0;
    while (!stopping.signal.aborted) {
      try {
        cursor ??= await options.start();
        const after = cursor;
        const reply = await connection.run((client) =>
          client.xread('COUNT', READ_BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', options.streamKey, after),
        );
        failures = 0;
        const entries = (reply?.[0]?.[1] ?? []) as StreamEntry[];
        if (entries.length === 0 || stopping.signal.aborted) continue;
        await options.beforeDelivery();
        if (stopping.signal.aborted) return;
        options.deliver(entries);
        cursor = entries.at(-1)![0];
      } catch (error) {
        if (stopping.signal.aborted) return;
        failures += 1;
        // Once per outage: every retry failing the same way would say nothing new.
        if (failures === 1) options.onError(error);
        const wait = backoffDelayMs(failures, {
          firstMs: FIRST_RETRY_DELAY_MS,
          maxMs: MAX_RETRY_DELAY_MS,
        });
        await delay(wait, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  }

  const done = tail();
  return {
    async stop() {
      stopping.abort();
      connection.disconnect();
      await done;
    },
  };
}
