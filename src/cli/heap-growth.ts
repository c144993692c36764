import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived its last full collection, in
 * percent, for the processes that run a fleet (`nightshift run`, `nightshift worker`).
 *
 * A fleet's runs mostly wait on their models, so what they allocate lives long enough to be
 * promoted, and V8, seeing collections cheap, grows the heap up to four times its live size
 * before the next full one: a fleet of 10,000 agents with ~90 MB live peaked near 500 MB RSS.
 * Twice the live size (100 %) keeps a long-running process's RSS steady at the cost of a full
 * collection about twice as often (each some milliseconds). 0 leaves V8 to choose.
 */
export const DEFAULT_HEAP_GROWTH = 100;

/** The largest `--heap-growth` taken: beyond it V8's own choice (up to 300 %) is as good. */
export const MAX_HEAP_GROWTH = 300;

/** What {@link applyHeapGrowth} did. */
export type HeapGrowthOutcome =
  | { applied: number }
  /** `v8`: 0 was asked, V8 chooses; `node_options`: the process was started with its own setting. */
  | { kept: 'v8' | 'node_options' };

/** Where a setting the process was started with would be. */
export interface HeapGrowthSources {
  execArgv: readonly string[];
  nodeOptions: string | undefined;
}

const V8_FLAG = /(^|\s)--heap[-_]growing[-_]percent(=|\s|$)/;

/**
 * Sets V8's heap growing factor to `1 + percent / 100` for the rest of the process, unless
 * `percent` is 0 or the process was started with `--heap-growing-percent` (in its arguments or
 * `NODE_OPTIONS`): a deployer's own setting wins.
 */
export function applyHeapGrowth(
  percent: number,
  sources: HeapGrowthSources = {
    execArgv: process.execArgv,
    nodeOptions: process.env.NODE_OPTIONS,
  },
  setFlags: (flags: string) => void = setFlagsFromString,
): HeapGrowthOutcome {
  if (!Number.isInteger(percent) || percent < 0 || percent > MAX_HEAP_GROWTH)
    throw new RangeError(`heap growth must be a whole number from 0 to ${MAX_HEAP_GROWTH}`);
  if (percent === 0) return { kept: 'v8' };
  const startedWith = [...sources.execArgv, sources.nodeOptions ?? ''].some((flag) =>
    V8_FLAG.test(flag),
  );
  if (startedWith) return { kept: 'node_options' };
  setFlags(`--heap-growing-percent=${percent}`);
  return { applied: percent };
}
