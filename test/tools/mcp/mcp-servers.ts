import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { McpServerConfig } from '../../../src/config/agent-definition.js';
import { NightshiftError } from '../../../src/errors.js';
import { waitFor } from '../../helpers/wait-for.js';

const root = resolve(import.meta.dirname, '../../..');

/** The installed reference servers' executables. */
export const EVERYTHING_SERVER = resolve(root, 'node_modules/.bin/mcp-server-everything');
/** The filesystem reference server; its arguments are the directories it may touch. */
export const FILESYSTEM_SERVER = resolve(root, 'node_modules/.bin/mcp-server-filesystem');

/** A full server config from the fields a test cares about. */
export function serverConfig(
  fields: Partial<McpServerConfig> & Pick<McpServerConfig, 'name'>,
): McpServerConfig {
  return { transport_type: 'stdio', ...fields };
}

/** The everything server over stdio. */
export function everythingStdio(name = 'everything', extra: Partial<McpServerConfig> = {}) {
  return serverConfig({ name, command: EVERYTHING_SERVER, args: ['stdio'], ...extra });
}

/** True while a process with this id exists. */
export function isAlive(processId: number): boolean {
  try {
    process.kill(processId, 0);
    return true;
  } catch {
    return false;
  }
}

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The everything server over HTTP, as a child process on a port of its own. */
export interface HttpServerProcess {
  port: number;
  /** Everything the server printed on stdout, which logs what it receives. */
  output(): string;
  /** Kills the server (SIGKILL: it gets no chance to say goodbye) and waits for it to go. */
  kill(): Promise<void>;
  /** Starts a new server on the same port and waits until it answers. */
  restart(): Promise<void>;
}

/** Starts `mcp-server-everything <mode>` on a free 127.0.0.1 port and waits until it answers HTTP. */
export async function startEverythingHttp(
  mode: 'streamableHttp' | 'sse',
): Promise<HttpServerProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    child = spawn(EVERYTHING_SERVER, [mode], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.resume();
    // Any HTTP answer (the root path is a 404) means the server listens.
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/`)).status > 0, {
      what: `the everything server (${mode}) on port ${port}`,
      timeoutMs: 10_000,
    });
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return { port, output: () => output, kill, restart: start };
}

/** The error a promise rejects with. */
export async function rejection(work: Promise<unknown>): Promise<NightshiftError> {
  const error: unknown = await work.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!NightshiftError.isInstance(error)) {
    throw new Error(`expected a NightshiftError, got ${String(error)}`);
  }
  return error;
}
