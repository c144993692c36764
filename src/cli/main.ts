#!/usr/bin/env node
import type { CliContext } from './cli-context.js';
import { applyHeapGrowth } from './heap-growth.js';
import { runCli } from './program.js';

/** Signals that shut a long-running command down gracefully; another one later exits at once. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * How long after the first stop signal another one counts as the same request. A terminal sends
 * Ctrl-C to its whole process group, and wrappers (`npm run`, `npx`, `tsx`) forward the signal
 * they got to their child as well, so one Ctrl-C reaches this process two or three times within
 * milliseconds. Only a signal later than this is the user asking again, to exit without waiting.
 */
const REPEAT_WINDOW_MS = 1_000;

const context: CliContext = {
  tuneHeap: (percent) => {
    applyHeapGrowth(percent);
  },
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  waitForStop: () =>
    new Promise((resolve) => {
      // Waiting for a signal is the command's work: with no agent active and no server, nothing
      // else keeps the event loop alive, and Node would end the process mid-await (exit 13).
      const keepAlive = setInterval(() => undefined, 2 ** 30);
      // A monotonic clock: the window must not stretch or vanish when the wall clock is set.
      let firstAt: number | undefined;
      for (const signal of STOP_SIGNALS) {
        process.on(signal, () => {
          const now = performance.now();
          if (firstAt === undefined) {
            firstAt = now;
            clearInterval(keepAlive);
            resolve(signal);
          } else if (now - firstAt >= REPEAT_WINDOW_MS) {
            process.stderr.write(`${signal} again: exiting without waiting for runs in flight\n`);
            process.exit(1);
          }
        });
      }
    }),
};

// The AI SDK would print provider warnings to stderr; the runtime records each as a run_warning event.
globalThis.AI_SDK_LOG_WARNINGS = false;

const code = await runCli(process.argv.slice(2), context);
// The command has closed what it opened; a stray timer left by a library must not keep the
// process alive. Exit once what was written has been flushed (writes to a pipe may be async).
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
