import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { waitFor } from '../helpers/wait-for.js';
import { postgresUnavailableReason } from '../storage/postgres-server.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** A Postgres cluster this suite created and owns: it may kill it without disturbing anyone else. */
export interface PrivatePostgres {
  readonly url: string;
  /** Milliseconds `initdb` and the first start took together. */
  readonly setupMs: number;
  /** Terminates every other backend of the database; returns how many were terminated. */
  cutConnections(): Promise<number>;
  /** Stops the server at once (`pg_ctl stop -m immediate`: no checkpoint, like a crash). */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data directory; resolves once it answers. */
  start(): Promise<void>;
  /** Stops the server and removes the cluster; idempotent. */
  stop(): Promise<void>;
}

interface PostgresBinaries {
  initdb: string;
  pgCtl: string;
}

/** `initdb` and `pg_ctl` of the newest Postgres installed in the Debian layout, if any. */
function postgresBinaries(): PostgresBinaries | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  if (newest === undefined) return undefined;
  return {
    initdb: join(root, newest, 'bin', 'initdb'),
    pgCtl: join(root, newest, 'bin', 'pg_ctl'),
  };
}

/** Why a private Postgres cannot be created here, or undefined when it can. */
export function postgresServerMissing(): string | undefined {
  if (!postgresBinaries()) return 'no initdb under /usr/lib/postgresql/*/bin';
  return undefined;
}

/** The uid and gid of the `postgres` OS user (initdb refuses to run as root). */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([
    run('id', ['-u', 'postgres']),
    run('id', ['-g', 'postgres']),
  ]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Creates a cluster in a temp directory and starts it on a free port, listening on 127.0.0.1
 * with its socket in that directory. `fsync=off` only gives up durability against an OS crash:
 * an immediate stop of the server still keeps every committed transaction (the WAL is in the OS
 * cache), which is what the promises checked after a restart rely on.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const binaries = postgresBinaries();
  if (!binaries) throw new Error(postgresServerMissing());
  const began = Date.now();
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-fault-postgres-'));
  const dataDirectory = join(directory, 'data');
  const logFile = join(directory, 'server.log');
  // As root, every Postgres command runs as the postgres user, who must own the directory.
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { uid, gid } = await postgresUser();
    chownSync(directory, uid, gid);
  }
  const command = async (binary: string, args: string[]): Promise<void> => {
    const [file, fileArgs] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', binary, ...args]]
      : [binary, args];
    await run(file, fileArgs, { timeout: 30_000 });
  };
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const serverOptions = [
    `-p ${port}`,
    `-k ${directory}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c full_page_writes=off',
    '-c max_connections=60',
  ].join(' ');
  let stopped = false;
  let running = false;

  const serverLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2_000) : '');

  const start = async (): Promise<void> => {
    if (stopped) throw new Error('the private Postgres was stopped');
    try {
      await command(binaries.pgCtl, [
        '-D',
        dataDirectory,
        '-l',
        logFile,
        '-o',
        serverOptions,
        '-w',
        'start',
      ]);
    } catch (error) {
      throw new Error(`pg_ctl start failed: ${String(error)}\n${serverLog()}`, { cause: error });
    }
    running = true;
    await waitFor(async () => (await postgresUnavailableReason(url)) === undefined, {
      timeoutMs: 15_000,
      intervalMs: 25,
      what: `the private Postgres on port ${port}`,
    });
  };

  const kill = async (): Promise<void> => {
    if (!running) return;
    running = false;
    await command(binaries.pgCtl, ['-D', dataDirectory, '-m', 'immediate', '-w', 'stop']);
  };

  try {
    await command(binaries.initdb, [
      '-D',
      dataDirectory,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '--no-instructions',
    ]);
    await start();
  } catch (error) {
    await kill().catch(() => undefined);
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const setupMs = Date.now() - began;

  return {
    url,
    setupMs,
    async cutConnections() {
      const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      admin.on('error', () => undefined);
      await admin.connect();
      try {
        const result = await admin.query<{ terminated: boolean }>(
          `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
            WHERE pid <> pg_backend_pid() AND datname = current_database()`,
        );
        return result.rows.filter((row) => row.terminated).length;
      } finally {
        await admin.end().catch(() => undefined);
      }
    },
    kill,
    start,
    async stop() {
      stopped = true;
      await kill().catch(() => undefined);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
