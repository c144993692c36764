import type { CliContext } from '../../src/cli/cli-context.js';
import { runCli } from '../../src/cli/program.js';

/**
 * Runs a short command in this process (no child process to start): its exit code and the
 * lines it printed. For commands that never wait for a signal.
 */
export async function runInProcess(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const context: CliContext = {
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    env,
    waitForStop: () => new Promise(() => undefined),
  };
  const code = await runCli(argv, context);
  return { code, stdout, stderr };
}

/** A long-running command (`run`, `serve`, `events --follow`) started in this process. */
export interface InProcessCli {
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout line matching `pattern`; rejects after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Delivers a stop signal, as SIGINT / SIGTERM would to the process. */
  stop(signal?: string): void;
  /** Resolves with the exit code. */
  exited: Promise<number>;
}

/**
 * Starts a command in this process, where starting costs nothing: for tests of what a command
 * does rather than of how a process ends (signals, crashes), which start a real one.
 */
export function startInProcess(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): InProcessCli {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  let deliver: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (deliver = resolve));
  const context: CliContext = {
    out: (line) => {
      stdout.push(line);
      wake();
    },
    err: (line) => {
      stderr.push(line);
      wake();
    },
    env,
    waitForStop: () => stopped,
  };
  let finished = false;
  const exited = runCli(argv, context).finally(() => {
    finished = true;
    wake();
  });
  const describe = () => `stdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`;
  return {
    stdout,
    stderr,
    exited,
    stop: (signal = 'SIGTERM') => deliver(signal),
    waitForLine: (pattern, timeoutMs = 8_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = stdout.find((candidate) => pattern.test(candidate));
          if (line !== undefined) finish(() => resolve(line));
          else if (finished)
            finish(() => reject(new Error(`ended before printing ${pattern}\n${describe()}`)));
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
  };
}
