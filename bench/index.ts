/**
 * `npm run bench [-- <suite>…] [--quick] [--tsx] [--v8-heap]`: runs the named suites (all by default),
 * prints each suite's figures against its goals, then a summary. Measurements run in fresh
 * child processes on a tsc-transpiled copy of the code (as shipped); `--tsx` runs them through
 * tsx instead. Exits 0 when goals are missed (a benchmark reports), 1 when a suite fails.
 */
import os from 'node:os';
import { backendsSuite } from './backends.js';
import { budgetsSuite } from './budgets.js';
import { distributedSuite } from './distributed.js';
import { fleetDaySuite } from './fleet-day.js';
import type { ChildRuntime } from './child-process.js';
import { idleMemorySuite } from './idle-memory.js';
import { journalSuite } from './journal.js';
import { printSuite, printSummary, type Figure } from './report.js';
import { runtimeSuite } from './runtime.js';
import { schedulerSuite } from './scheduler.js';
import type { BenchOptions, Suite } from './suite.js';

const DEFAULT_SUITES: readonly Suite[] = [
  runtimeSuite,
  journalSuite,
  budgetsSuite,
  schedulerSuite,
  idleMemorySuite,
  backendsSuite,
];
/**
 * `distributed` (a fleet of worker processes on BullMQ) and `fleet-day` (a real fleet's day per
 * backend) run only when named: they take minutes.
 */
const SUITES: readonly Suite[] = [...DEFAULT_SUITES, distributedSuite, fleetDaySuite];
const FLAGS = ['--quick', '--tsx', '--v8-heap', '--help'];

function usage(): string {
  return [
    `usage: npm run bench -- [${SUITES.map((suite) => suite.name).join('|')}]… [--quick] [--tsx] [--v8-heap]`,
    '  --quick  smaller sizes and shorter windows',
    '  --tsx    measure through tsx only (default: transpiled JavaScript, plus tsx for comparison where cheap)',
    "  --v8-heap  fleet-day keeps V8's own heap growth (default: the --heap-growth nightshift run sets)",
  ].join('\n');
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

async function main(argv: string[]): Promise<number> {
  const unknownFlags = argv.filter(
    (argument) => argument.startsWith('-') && !FLAGS.includes(argument),
  );
  const names = argv.filter((argument) => !argument.startsWith('-'));
  const unknownSuites = names.filter((name) => !SUITES.some((suite) => suite.name === name));
  if (argv.includes('--help') || unknownFlags.length > 0 || unknownSuites.length > 0) {
    const unknown = [...unknownFlags, ...unknownSuites];
    if (unknown.length > 0) console.error(`unknown: ${unknown.join(', ')}`);
    console.error(usage());
    return unknown.length > 0 ? 2 : 0;
  }
  const runtimes: readonly [ChildRuntime, ...ChildRuntime[]] = argv.includes('--tsx')
    ? ['tsx']
    : ['compiled', 'tsx'];
  const options: BenchOptions = {
    quick: argv.includes('--quick'),
    runtimes,
    v8Heap: argv.includes('--v8-heap'),
  };
  const selected =
    names.length === 0 ? DEFAULT_SUITES : SUITES.filter((suite) => names.includes(suite.name));

  console.log(
    `nightshift bench · ${selected.map((suite) => suite.name).join(', ')}${options.quick ? ' · --quick' : ''} · measured as ${runtimes[0] === 'compiled' ? 'transpiled JavaScript' : 'tsx'}`,
  );
  console.log(
    `node ${process.version} · ${os.cpus().length} CPUs · ${(os.totalmem() / 2 ** 30).toFixed(0)} GB · load average ${loadAverage()}`,
  );
  const figures: Figure[] = [];
  const failures: string[] = [];
  const started = performance.now();
  for (const suite of selected) {
    try {
      const result = await suite.run(options);
      printSuite(suite.title, result);
      figures.push(...result.figures);
    } catch (error) {
      console.error(
        `\n${suite.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      failures.push(suite.name);
    }
  }
  printSummary(figures, failures);
  console.log(
    `total ${((performance.now() - started) / 1000).toFixed(0)} s · load average now ${loadAverage()}`,
  );
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
