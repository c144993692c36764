#!/usr/bin/env node
import type { CliContext } from './cli-context.js';
import { runCli } from './program.js';

/** Signals that shut `nightshift run` down gracefully; a second one exits at once. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

const context: CliContext = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  waitForStop: () =>
    new Promise((resolve) => {
      let stopping = false;
      for (const signal of STOP_SIGNALS) {
        process.on(signal, () => {
          if (stopping) {
            process.stderr.write(`${signal} again: exiting without waiting for runs in flight\n`);
            process.exit(1);
          }
          stopping = true;
          resolve(signal);
        });
      }
    }),
};

const code = await runCli(process.argv.slice(2), context);
// The command has closed what it opened; a stray timer left by a library must not keep the
// process alive. Exit once what was written has been flushed (writes to a pipe may be async).
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
