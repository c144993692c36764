import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { NightshiftError } from '../errors.js';
import type { BackgroundAgentService } from '../service/index.js';
import { DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV, type AppOptions } from './app-options.js';
import { createApp } from './create-app.js';
import { hostForUrl, isLoopbackHost } from './loopback-host.js';

/** Options of `startServer`: the app's options plus where to listen. */
export interface ServerOptions extends Omit<AppOptions, 'signal'> {
  /** Default `127.0.0.1`. Any other than a loopback host requires a token. */
  host?: string;
  /** Default 7420; 0 picks a free port. */
  port?: number;
  /** Default `NIGHTSHIFT_TOKEN` of `env` (itself `process.env` by default). */
  token?: string;
}

/** A listening server. */
export interface RunningServer {
  /** Where it listens, e.g. `http://127.0.0.1:7420`. */
  url: string;
  port: number;
  /** Stops listening, ends open event streams and connections, stops the metrics' follower. */
  close: () => Promise<void>;
}

/**
 * Serves `createApp(service)` over HTTP. Safe by default: it listens on loopback, and refuses
 * (`config_invalid`) to listen anywhere else without a token.
 */
export async function startServer(
  service: BackgroundAgentService,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  const token = options.token ?? (options.env ?? process.env)[TOKEN_ENV];
  const hasToken = token !== undefined && token !== '';
  if (!isLoopbackHost(host) && !hasToken) {
    throw new NightshiftError(
      'config_invalid',
      `token: required to listen on ${host}, which other machines can reach (set NIGHTSHIFT_TOKEN)`,
      {
        fields: [{ path: 'token', message: `required to listen on the non-loopback host ${host}` }],
      },
    );
  }
  // Connect the stores before listening, so the metrics' follower subscribes to the event log
  // before the first request can start a run (and a store that does not answer fails here).
  await service.listAgents();
  const shutdown = new AbortController();
  const app = createApp(service, {
    ...options,
    host,
    ...(hasToken ? { token } : {}),
    signal: shutdown.signal,
  });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? DEFAULT_PORT, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // The port is taken, say: stop the metrics' follower the app has already started.
    shutdown.abort();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl(host)}:${port}`,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        shutdown.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        // Event streams and keep-alive connections would otherwise hold the close open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
