/**
 * What a command may touch of the world: its output, its environment and the signal to stop.
 * `main.ts` binds it to the process; tests may bind it to arrays and an AbortController.
 */
export interface CliContext {
  /** Writes one line to standard output (results, run lines). */
  out: (line: string) => void;
  /** Writes one line to standard error (errors, warnings). */
  err: (line: string) => void;
  /** The environment `${NAME}` references, API keys and `DATABASE_URL` are read from. */
  env: Record<string, string | undefined>;
  /** Resolves with the signal's name (`SIGTERM`) when a long-running command should shut down. */
  waitForStop: () => Promise<string>;
  /**
   * Sets how far the process's heap grows past its live size (`--heap-growth`) for a command
   * that runs a fleet. `main.ts` binds it to V8; left out (tests in one process), nothing is set.
   */
  tuneHeap?: (percent: number) => void;
}
