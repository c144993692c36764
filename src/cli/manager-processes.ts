import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describeFields } from '../config/format-issues.js';
import type { NightshiftFile } from '../config/nightshift-file.js';
import { NightshiftError, type FieldError } from '../errors.js';
import type { Partition } from '../service/index.js';

/** What a manager process tells its parent once it runs agents. */
const READY_MESSAGE = 'nightshift:manager_ready';

/** How a manager process ended: its index, and its exit code or signal. */
export interface ManagerExit {
  index: number;
  code: number | string;
  /** True when it ended before the parent asked it to stop. */
  unexpected: boolean;
}

/** What starting the managers of `nightshift run --processes N` takes. */
export interface ManagerProcessesOptions {
  /** The Nightshift file, as given on the command line (the children share the working directory). */
  file: string;
  count: number;
  /** The flags of manager `index` besides `run <file> --partition index/count`. */
  flags: (index: number) => string[];
  env: Record<string, string | undefined>;
  /** Where each manager's standard output and error lines go, tagged with its index. */
  out: (line: string) => void;
  err: (line: string) => void;
  /** A manager that ended before it was asked to (it is not restarted). */
  onUnexpectedExit: (exit: ManagerExit) => void;
}

/** The running managers of a `--processes N` fleet. */
export interface ManagerProcesses {
  /** Process ids, by index. */
  pids: number[];
  /** Resolves once every manager runs agents; rejects when one ends before (the others go on: stop them). */
  ready: Promise<void>;
  /** Resolves once every manager has ended (each one's output printed), whatever ended it. */
  allExited: Promise<ManagerExit[]>;
  /** Sends `signal` (once) to every manager still running and resolves once all have ended. */
  stop(signal: string): Promise<ManagerExit[]>;
}

/**
 * Refuses a file `--processes N` cannot share between processes: in-memory backends live
 * inside one process, and a distributed scheduler shares its queue between workers already.
 */
export function checkShareable(config: NightshiftFile, file: string, processes: number): void {
  const fields: FieldError[] = [];
  for (const section of ['memory', 'events'] as const) {
    if (config[section].backend !== 'in_memory') continue;
    fields.push({
      path: `${section}.backend`,
      message: `in_memory lives inside one process; --processes ${processes} needs a store processes share (a SQLite file, Postgres, Redis)`,
    });
  }
  if (config.scheduler.kind !== 'local') {
    fields.push({
      path: 'scheduler.kind',
      message: `--processes splits the in-process scheduler's ticks; with ${config.scheduler.kind}, start more \`nightshift worker\` processes instead`,
    });
  }
  if (fields.length === 0) return;
  throw new NightshiftError(
    'config_invalid',
    `${file} cannot run in --processes ${processes}: ${describeFields(fields)}`,
    { fields, details: { file } },
  );
}

/** Tells the parent of a manager process (if any) that this one runs agents now. */
export function announceReady(): void {
  process.send?.(READY_MESSAGE);
}

/** Resolves when the parent of this manager process has gone (never for a process with no parent channel). */
export function parentGone(): Promise<string> {
  return new Promise((resolve) => {
    if (process.connected) process.once('disconnect', () => resolve('parent exited'));
  });
}

/**
 * Starts `count` managers: this CLI again (`process.execPath` with the same Node flags and entry
 * script), each `run <file> --partition i/count`, in this process group (a terminal's Ctrl-C
 * reaches them too, and one that outlives this process stops when its channel closes).
 */
export function startManagerProcesses(options: ManagerProcessesOptions): ManagerProcesses {
  const entry = process.argv[1];
  if (entry === undefined) throw new NightshiftError('internal', 'the CLI entry script is unknown');
  let stopping = false;
  const children: ChildProcess[] = [];
  const exits: Promise<ManagerExit>[] = [];
  const readies: Promise<void>[] = [];
  for (let index = 0; index < options.count; index += 1) {
    const partition: Partition = { index, count: options.count };
    const child = fork(
      entry,
      ['run', options.file, '--partition', `${index}/${options.count}`, ...options.flags(index)],
      { execArgv: process.execArgv, env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    children.push(child);
    const tag = `[${partition.index}] `;
    relay(child.stdout, (line) => options.out(tag + line));
    relay(child.stderr, (line) => options.err(tag + line));
    const exit = new Promise<ManagerExit>((resolve) => {
      // `close`: after its output streams ended, so every line of it is printed first.
      child.once('close', (code, signal) => {
        const ended = { index, code: code ?? signal ?? 'unknown', unexpected: !stopping };
        if (ended.unexpected) options.onUnexpectedExit(ended);
        resolve(ended);
      });
    });
    exits.push(exit);
    readies.push(
      new Promise<void>((resolve, reject) => {
        child.on('message', (message) => {
          if (message === READY_MESSAGE) resolve();
        });
        void exit.then((ended) =>
          reject(
            new NightshiftError(
              'internal',
              `manager ${index} of --processes ${options.count} ended (${String(ended.code)}) before it ran agents; see its lines above`,
            ),
          ),
        );
      }),
    );
  }
  const allExited = Promise.all(exits);
  const stop = async (signal: string): Promise<ManagerExit[]> => {
    // Once: the same signal again would be the user asking to exit without waiting.
    if (stopping) return allExited;
    stopping = true;
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null)
        child.kill(signal as NodeJS.Signals);
    return allExited;
  };
  const ready = Promise.all(readies).then(() => undefined);
  // Whoever starts them may stop them before they are ready, and never look at `ready` then.
  ready.catch(() => undefined);
  return { pids: children.map((child) => child.pid ?? 0), ready, allExited, stop };
}

function relay(stream: NodeJS.ReadableStream | null, line: (text: string) => void): void {
  if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', line);
}
