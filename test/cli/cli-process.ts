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
  /**
   * Sends `signal` to the process group, as a terminal does on Ctrl-C: the CLI and every
   * wrapper around it get it. Only for a CLI started with a `launcher` (its own group).
   */
  signalGroup(signal: NodeJS.Signals): void;
}

/** Processes started and maybe still alive; true for those leading a process group of their own. */
const started = new Map<ChildProcess, boolean>();

/** tsx's loader and the CLI by absolute path, so the CLI may start in any directory. */
const TSX_LOADER = import.meta.resolve('tsx');
const CLI_MAIN = join(REPOSITORY, 'src/cli/main.ts');

/**
 * The README's ways of starting the CLI from a clone: `npm run nightshift -- …` and
 * `npx tsx src/cli/main.ts …`. Each is a chain of processes that forward signals to their
 * child: npm, the shell it runs the script with, tsx, and the CLI.
 */
export type CliLauncher = 'npm run' | 'npx tsx';

/** Where a started CLI runs. */
export interface StartCliOptions {
  /** Its working directory, which relative paths of a Nightshift file are resolved against. Default: the repository. */
  cwd?: string;
  /**
   * Started through wrappers, as a user does, in a process group of its own as a terminal's
   * foreground job (see {@link CliProcess.signalGroup}). Default: `node --import tsx` directly.
   * A launcher needs the repository as its working directory (the default).
   */
  launcher?: CliLauncher;
  /**
   * The shell npm runs a script with (`npm_config_script_shell`). bash runs a one-command script
   * in place (as macOS's `/bin/sh` does), so what npm forwards reaches tsx too; dash stays in
   * between and takes it. Default: npm's (`/bin/sh`).
   */
  scriptShell?: string;
}

function commandLine(
  args: readonly string[],
  launcher: CliLauncher | undefined,
): { command: string; commandArgs: string[] } {
  if (launcher === 'npm run')
    return { command: 'npm', commandArgs: ['run', '--silent', 'nightshift', '--', ...args] };
  if (launcher === 'npx tsx')
    return { command: 'npx', commandArgs: ['tsx', 'src/cli/main.ts', ...args] };
  return { command: process.execPath, commandArgs: ['--import', TSX_LOADER, CLI_MAIN, ...args] };
}

/**
 * Starts `node --import tsx src/cli/main.ts …args` (in the repository unless `options.cwd` says
 * otherwise, or through `options.launcher`), with `env` added to this one's.
 */
export function startCli(
  args: readonly string[],
  env: Record<string, string> = {},
  options: StartCliOptions = {},
): CliProcess {
  const { command, commandArgs } = commandLine(args, options.launcher);
  const grouped = options.launcher !== undefined;
  const child = spawn(command, commandArgs, {
    cwd: options.cwd ?? REPOSITORY,
    env: {
      ...process.env,
      NO_COLOR: '1',
      ...(options.scriptShell ? { npm_config_script_shell: options.scriptShell } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: grouped,
  });
  started.set(child, grouped);
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
      // A group may outlive its leader (a wrapper killed under its children): keep it to kill.
      if (!grouped) started.delete(child);
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
    signalGroup: (signal) => {
      if (!grouped || child.pid === undefined) throw new Error('not started in a group of its own');
      process.kill(-child.pid, signal);
    },
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
  for (const [child, grouped] of started) {
    // A wrapper's children (tsx, the CLI) would outlive it: kill its whole group.
    if (grouped && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
    } else child.kill('SIGKILL');
  }
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
