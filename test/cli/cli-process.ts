import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';

/** The repository root: the CLI is started from here, as `npm run nightshift` would. */
export const REPOSITORY = resolve(import.meta.dirname, '../..');

/** A `nightshift` process started by a test, its output as it comes, and its exit. */
export interface CliProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout line matching `pattern`; rejects after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal's name); rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<number | string>;
}

const started = new Set<ChildProcess>();

/** tsx's loader and the CLI by absolute path, so the CLI may start in any directory. */
const TSX_LOADER = import.meta.resolve('tsx');
const CLI_MAIN = join(REPOSITORY, 'src/cli/main.ts');

/** Where a started CLI runs. */
export interface StartCliOptions {
  /** Its working directory, which relative paths of a Nightshift file are resolved against. Default: the repository. */
  cwd?: string;
}

/**
 * Starts `node --import tsx src/cli/main.ts …args` (in the repository unless `options.cwd` says
 * otherwise), with `env` added to this one's.
 */
export function startCli(
  args: readonly string[],
  env: Record<string, string> = {},
  options: StartCliOptions = {},
): CliProcess {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, ...args], {
    cwd: options.cwd ?? REPOSITORY,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (stream: NodeJS.ReadableStream, lines: string[]) => {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts);
      for (const wake of waiters) wake();
    });
    stream.on('end', () => {
      if (pending !== '') lines.push(pending);
      for (const wake of waiters) wake();
    });
  };
  collect(child.stdout, stdout);
  collect(child.stderr, stderr);
  const exit = new Promise<number | string>((done) => {
    child.on('exit', (code, signal) => {
      started.delete(child);
      done(code ?? signal ?? 'unknown');
      for (const wake of waiters) wake();
    });
  });
  const describe = () =>
    `stdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}\nexit code: ${String(child.exitCode ?? child.signalCode)}`;

  return {
    child,
    stdout,
    stderr,
    waitForLine: (pattern, timeoutMs = 8_000) =>
      new Promise((resolveLine, reject) => {
        const check = () => {
          const line = stdout.find((candidate) => pattern.test(candidate));
          if (line !== undefined) finish(() => resolveLine(line));
          else if (child.exitCode !== null || child.signalCode !== null)
            finish(() => reject(new Error(`exited before printing ${pattern}\n${describe()}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no line ${pattern} in time\n${describe()}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      }),
    exited: (timeoutMs = 8_000) =>
      Promise.race([
        exit,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`the process did not exit in time\n${describe()}`)),
            timeoutMs,
          ).unref(),
        ),
      ]),
  };
}

/** Runs a short command to its end: its exit code and output. */
export async function runToEnd(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | string; stdout: string[]; stderr: string[] }> {
  const cli = startCli(args, env);
  const code = await cli.exited(10_000);
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

/** Kills every process a test started and left running (a failed test must not leave one behind). */
export function killLeftoverProcesses(): void {
  for (const child of started) child.kill('SIGKILL');
  started.clear();
}

/** Polls `probe` until it returns something other than undefined; rejects after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 8_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveTick) => setTimeout(resolveTick, 50));
  }
}

/** A fresh directory for one test's files and SQLite store. */
export interface Workspace {
  directory: string;
  /** The SQLite file of this workspace's store, and its `sqlite:` URL. */
  databasePath: string;
  databaseUrl: string;
  /** Writes a Nightshift file (YAML, or JSON by extension) into the workspace; returns its path. */
  writeFile(name: string, content: unknown): string;
  remove(): void;
}

/** Makes a {@link Workspace} under the OS temp directory. */
export function createWorkspace(): Workspace {
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-cli-'));
  const databasePath = join(directory, 'nightshift.db');
  return {
    directory,
    databasePath,
    databaseUrl: `sqlite://${databasePath}`,
    writeFile(name, content) {
      const path = join(directory, name);
      const text =
        typeof content === 'string'
          ? content
          : name.endsWith('.json')
            ? JSON.stringify(content, null, 2)
            : stringify(content);
      writeFileSync(path, text);
      return path;
    },
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

/** A Nightshift file keeping memory and events in the workspace's SQLite file. */
export function nightshiftFile(workspace: Workspace, agents: unknown[]): Record<string, unknown> {
  return {
    memory: { backend: 'database', url: workspace.databaseUrl },
    events: { backend: 'database', url: workspace.databaseUrl },
    agents,
  };
}

/** A scripted agent: no key, no network. */
export function scriptedAgent(
  agentId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    agent_id: agentId,
    model_config: {
      provider: 'scripted',
      script: [
        { tool: 'system_stats' },
        { answer: 'memory {{system_stats.memory.used_percent}}% used' },
      ],
    },
    interval: 1,
    task_config: { query: 'Check local CPU and Memory usage.' },
    tools: ['system_stats'],
    ...overrides,
  };
}
