import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NightshiftError } from '../../../errors.js';
import type { ArchiveOutcome } from './archive-plan.js';
import {
  revivedError,
  type SqliteArchiveRequest,
  type SqliteQueryRequest,
  type SqliteQueryRows,
  type SqliteReply,
  type SqliteRequest,
} from './sqlite-process-protocol.js';

/** Processes per connection at once, like the Postgres pools' `max`; more calls wait their turn. */
const MAX_PROCESSES = 4;
/** An idle process is kept this long for the next call (it costs ~40 ms and ~40 MB to start). */
const IDLE_MS = 60_000;

/**
 * From the compiled `dist/` the child is the `.js` next to this module; from sources (tsx,
 * vitest) it is the `.ts`, run through tsx's loader — resolved from here, so neither the
 * working directory nor the parent's own flags matter.
 */
function childEntry(): { path: string; execArgv: string[] } {
  const compiled = !import.meta.url.endsWith('.ts');
  const path = fileURLToPath(
    new URL(`./sqlite-child-process.${compiled ? 'js' : 'ts'}`, import.meta.url),
  );
  if (compiled) return { path, execArgv: [] };
  const loader = createRequire(import.meta.url).resolve('tsx');
  return { path, execArgv: ['--import', pathToFileURL(loader).href] };
}

/** How long one request may run and what to say when it runs longer. */
interface Deadline {
  milliseconds: number;
  /** The error message, e.g. "the statement ran longer than the 30s statement timeout …". */
  message: string;
  /** Archive batches each get the full time: the deadline restarts at every `batch` reply. */
  restartOnBatch: boolean;
}

/**
 * Runs one connection's SQLite work in child processes, so that a statement — which
 * better-sqlite3 runs synchronously — never blocks this process's event loop, and a runaway
 * one can be stopped: at the call's abort signal or past the statement timeout the process is
 * killed (`SIGKILL`), the call rejects at once, and a fresh process serves the next call.
 * Idle processes are kept for reuse, unreferenced, so they never keep this process alive.
 */
export class SqliteProcessPool {
  readonly #idle: SqliteProcess[] = [];
  readonly #all = new Set<SqliteProcess>();
  /** Calls waiting for a process while {@link MAX_PROCESSES} are busy. */
  readonly #waiting: Array<{
    grant: (child: SqliteProcess) => void;
    refuse: (error: unknown) => void;
  }> = [];
  #closed = false;

  /** Runs a read-only query; rejects with the signal's reason when it aborts. */
  async query(
    request: SqliteQueryRequest,
    signal: AbortSignal,
    statementTimeoutMs: number,
  ): Promise<SqliteQueryRows> {
    const deadline = {
      milliseconds: statementTimeoutMs,
      message: `the statement ran longer than the ${statementTimeoutMs / 1000}s statement timeout and was stopped`,
      restartOnBatch: false,
    };
    return (await this.#run(request, signal, deadline)) as SqliteQueryRows;
  }

  /**
   * Runs an archive. A kill mid-batch loses nothing: the batch's transaction rolls back, and a
   * row already in the JSONL file is recovered by the next run (see `JsonlArchiveFile`).
   */
  async archive(
    request: SqliteArchiveRequest,
    signal: AbortSignal,
    statementTimeoutMs: number,
  ): Promise<ArchiveOutcome> {
    const deadline = {
      milliseconds: statementTimeoutMs,
      message: `a batch ran longer than the ${statementTimeoutMs / 1000}s statement timeout and was stopped; batches already moved stay moved`,
      restartOnBatch: true,
    };
    return (await this.#run(request, signal, deadline)) as ArchiveOutcome;
  }

  /** Kills every process, idle or busy; calls in flight reject. */
  async close(): Promise<void> {
    this.#closed = true;
    const closed = new NightshiftError('tool_error', 'the SQL tools were closed');
    for (const waiter of this.#waiting.splice(0)) waiter.refuse(closed);
    this.#idle.length = 0;
    await Promise.all([...this.#all].map((child) => child.kill(closed)));
  }

  async #run(request: SqliteRequest, signal: AbortSignal, deadline: Deadline): Promise<unknown> {
    signal.throwIfAborted();
    const child = await this.#acquire(signal);
    let timer: NodeJS.Timeout | undefined;
    const stop = (reason: unknown) => void child.kill(reason);
    const onAbort = () => stop(signal.reason);
    const startDeadline = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stop(new Error(deadline.message)), deadline.milliseconds);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    startDeadline();
    try {
      const answer = child.request(
        request,
        deadline.restartOnBatch ? startDeadline : () => undefined,
      );
      // An abort while this call waited for a process has not reached the listener.
      if (signal.aborted) onAbort();
      return await answer;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (child.alive) this.#release(child);
    }
  }

  /** An idle process, a new one while fewer than the maximum run, or the next one released. */
  async #acquire(signal: AbortSignal): Promise<SqliteProcess> {
    if (this.#closed) throw new NightshiftError('tool_error', 'the SQL tools were closed');
    const idle = this.#idle.filter((child) => child.alive).pop();
    if (idle !== undefined) {
      this.#forget(idle);
      return idle.take();
    }
    if (this.#all.size < MAX_PROCESSES) return this.#spawn().take();
    return new Promise<SqliteProcess>((resolve, reject) => {
      const waiter = {
        grant: (child: SqliteProcess) => {
          signal.removeEventListener('abort', onAbort);
          resolve(child.take());
        },
        refuse: (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #release(child: SqliteProcess): void {
    if (this.#closed) {
      void child.kill(new Error('closed'));
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) {
      waiter.grant(child);
      return;
    }
    this.#idle.push(child);
    child.rest(IDLE_MS, () => {
      this.#forget(child);
      void child.kill(new Error('idle'));
    });
  }

  #spawn(): SqliteProcess {
    const child = new SqliteProcess(() => {
      this.#all.delete(child);
      this.#forget(child);
      // A slot came free: the longest-waiting call gets a fresh process.
      const waiter = this.#closed ? undefined : this.#waiting.shift();
      waiter?.grant(this.#spawn());
    });
    this.#all.add(child);
    return child;
  }

  /** Takes the process off the idle list, if it is there. */
  #forget(child: SqliteProcess): void {
    const index = this.#idle.indexOf(child);
    if (index >= 0) this.#idle.splice(index, 1);
  }
}

/** A request in flight, settled by the child's answer, its exit, or a kill. */
interface PendingRequest {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onBatch: () => void;
}

/** One child process, serving one request at a time. */
class SqliteProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #pending: PendingRequest | undefined;
  #alive = true;
  #idleTimer: NodeJS.Timeout | undefined;

  /** Starts the process; `onExit` runs once when it is gone (exited, killed, or never started). */
  constructor(onExit: () => void) {
    const entry = childEntry();
    this.#child = fork(entry.path, [], {
      execArgv: entry.execArgv,
      // Values cross as structured clones, as they would have left better-sqlite3 in-process.
      serialization: 'advanced',
      // A crash's own report still reaches this process's stderr.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.#child.on('message', (reply) => this.#answer(reply as SqliteReply));
    this.#exited = new Promise((resolve) => {
      let gone = false;
      const finish = (description: string) => {
        this.#alive = false;
        // After a kill the request has already been rejected with the kill's reason. A plain
        // Error, so that `sqlError` says which connection's call it was.
        this.#settle((pending) =>
          pending.reject(new Error(`the SQLite process stopped unexpectedly (${description})`)),
        );
        if (gone) return;
        gone = true;
        resolve();
        onExit();
      };
      this.#child.once('exit', (code, signal) =>
        finish(signal === null ? `exit code ${String(code)}` : `signal ${signal}`),
      );
      this.#child.on('error', (error) => {
        // Without a pid it never started, and `exit` may never come.
        if (this.#child.pid === undefined) finish(error.message);
      });
    });
  }

  /** False once killed or exited: it must not be used again. */
  get alive(): boolean {
    return this.#alive;
  }

  /** Marks the process busy: it keeps this process alive until it answers. */
  take(): this {
    clearTimeout(this.#idleTimer);
    this.#child.ref();
    this.#child.channel?.ref();
    return this;
  }

  /** Marks the process idle; `onIdle` runs after `idleMs` unless it is taken again first. */
  rest(idleMs: number, onIdle: () => void): void {
    this.#child.unref();
    this.#child.channel?.unref();
    this.#idleTimer = setTimeout(onIdle, idleMs);
    this.#idleTimer.unref();
  }

  /** Sends one request; `onBatch` runs for each `batch` reply before the result. */
  request(request: SqliteRequest, onBatch: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!this.#alive) {
        reject(new Error('the SQLite process has stopped'));
        return;
      }
      this.#pending = { resolve, reject, onBatch };
      this.#child.send(request, (error) => {
        if (error) this.#settle((pending) => pending.reject(error));
      });
    });
  }

  /** Kills the process now; a request in flight rejects with `reason`. Resolves once it is gone. */
  kill(reason: unknown): Promise<void> {
    clearTimeout(this.#idleTimer);
    if (this.#alive) {
      this.#alive = false;
      this.#settle((pending) => pending.reject(reason));
      // Referenced again, so that whoever awaits the exit (`close()`) is not left behind by a
      // process that ends for want of anything else to do.
      this.#child.ref();
      this.#child.kill('SIGKILL');
    }
    return this.#exited;
  }

  #answer(reply: SqliteReply): void {
    if (reply.kind === 'batch') {
      this.#pending?.onBatch();
      return;
    }
    this.#settle((pending) =>
      reply.kind === 'result'
        ? pending.resolve(reply.value)
        : pending.reject(revivedError(reply.error)),
    );
  }

  #settle(action: (pending: PendingRequest) => void): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) action(pending);
  }
}
