import type { ChildRuntime } from './child-process.js';
import type { SuiteResult } from './report.js';

/** Options every suite takes from the command line. */
export interface BenchOptions {
  /** Smaller sizes and shorter windows, for a quick look (goals are still printed). */
  quick: boolean;
  /**
   * How measuring processes run the code. The first is judged against the goals; suites
   * that are cheap to repeat also print the others, for comparison.
   */
  runtimes: readonly [ChildRuntime, ...ChildRuntime[]];
  /**
   * `--v8-heap`: a process that runs a fleet (fleet-day) keeps V8's own heap growth instead of
   * the `--heap-growth` that `nightshift run` and `nightshift worker` set by default.
   */
  v8Heap: boolean;
}

/** One benchmark suite, run by name from `bench/index.ts`. */
export interface Suite {
  name: string;
  /** One line on what it measures. */
  title: string;
  run(options: BenchOptions): Promise<SuiteResult>;
}
