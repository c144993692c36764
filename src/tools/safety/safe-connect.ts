import net from 'node:net';
import { NightshiftError } from '../../errors.js';
import { assertPublicAddress, type AddressPolicy } from './assert-public-address.js';
import { normalizeHost } from './ip-address.js';
import { pinnedLookup } from './pinned-lookup.js';

/** How long {@link safeConnect} waits, and what cancels it. */
export interface SafeConnectOptions extends AddressPolicy {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A TCP connection that was opened (and closed again). */
export interface ConnectResult {
  /** The address connected to. */
  address: string;
  /** From starting the connection to its establishment. */
  latencyMs: number;
}

/**
 * Opens a TCP connection to `host:port` under the same rules as `safeFetch` (checked and pinned
 * addresses), then closes it: a reachability probe that sends no data.
 */
export async function safeConnect(
  host: string,
  port: number,
  options: SafeConnectOptions,
): Promise<ConnectResult> {
  const addresses = await assertPublicAddress(host, options);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  signal.throwIfAborted();
  const started = performance.now();
  return new Promise<ConnectResult>((resolve, reject) => {
    const socket = net.connect({
      host: normalizeHost(host),
      port,
      lookup: pinnedLookup(addresses),
    });
    const onAbort = () => {
      socket.destroy();
      if (options.signal?.aborted) reject(options.signal.reason);
      else {
        reject(
          new NightshiftError(
            'timeout',
            `connecting to ${host}:${port} timed out after ${options.timeoutMs / 1000}s`,
          ),
        );
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      const latencyMs = performance.now() - started;
      const address = socket.remoteAddress ?? host;
      socket.destroy();
      resolve({ address, latencyMs });
    });
    socket.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(
        new NightshiftError(
          'tool_error',
          `connecting to ${host}:${port} failed: ${error.message}`,
          {
            cause: error,
          },
        ),
      );
    });
  });
}
