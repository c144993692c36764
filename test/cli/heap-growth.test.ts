import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/cli-context.js';
import { applyHeapGrowth, DEFAULT_HEAP_GROWTH } from '../../src/cli/heap-growth.js';
import { runCli } from '../../src/cli/program.js';
import { createWorkspace, nightshiftFile, waitFor, type Workspace } from './cli-process.js';
import { runInProcess } from './in-process.js';

const run = promisify(execFile);

/**
 * A child process that keeps ~40 MB alive, then promotes and drops garbage for a while (as
 * waiting runs do), and prints the largest heap V8 kept: with `percent` given to
 * applyHeapGrowth first.
 */
async function peakHeapMb(percent: number): Promise<number> {
  const script = `
    import { getHeapStatistics } from 'node:v8';
    import { applyHeapGrowth } from './src/cli/heap-growth.ts';
    applyHeapGrowth(${percent}, { execArgv: [], nodeOptions: undefined });
    const live = [];
    for (let i = 0; i < 300_000; i++) live.push({ i, text: 'row ' + i, list: [i, i + 1] });
    const waiting = [];
    let peak = 0;
    for (let round = 0; round < 150; round++) {
      for (let i = 0; i < 20_000; i++) waiting.push({ round, list: new Array(8).fill(i) });
      if (waiting.length > 100_000) waiting.splice(0, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 2));
      peak = Math.max(peak, getHeapStatistics().total_heap_size);
    }
    // The live set is read at the end, so it stays alive throughout.
    console.log(JSON.stringify({ peakMb: peak / 1048576, live: live.length }));
  `;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', script],
    { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const { peakMb, live } = JSON.parse(stdout) as { peakMb: number; live: number };
  expect(live).toBe(300_000);
  return peakMb;
}

describe('applyHeapGrowth', () => {
  it('sets V8’s heap growing percent, and nothing for 0', () => {
    const flags: string[] = [];
    const none = { execArgv: [], nodeOptions: undefined };
    expect(applyHeapGrowth(100, none, (flag) => flags.push(flag))).toEqual({ applied: 100 });
    expect(applyHeapGrowth(0, none, (flag) => flags.push(flag))).toEqual({ kept: 'v8' });
    expect(flags).toEqual(['--heap-growing-percent=100']);
  });

  it('leaves a setting the process was started with alone', () => {
    const flags: string[] = [];
    const set = (flag: string) => flags.push(flag);
    expect(
      applyHeapGrowth(
        100,
        { execArgv: ['--heap-growing-percent=30'], nodeOptions: undefined },
        set,
      ),
    ).toEqual({ kept: 'node_options' });
    expect(
      applyHeapGrowth(
        100,
        { execArgv: [], nodeOptions: '--max-old-space-size=900 --heap_growing_percent 20' },
        set,
      ),
    ).toEqual({ kept: 'node_options' });
    // Another flag that only starts alike is not the setting.
    expect(
      applyHeapGrowth(50, { execArgv: ['--heap-growing-percentage=1'], nodeOptions: '' }, set),
    ).toEqual({ applied: 50 });
    expect(flags).toEqual(['--heap-growing-percent=50']);
  });

  it('refuses a percent out of range', () => {
    const none = { execArgv: [], nodeOptions: undefined };
    for (const bad of [-1, 301, 1.5, Number.NaN])
      expect(() => applyHeapGrowth(bad, none, () => undefined)).toThrow(/0 to 300/);
  });

  it('keeps the heap of a process whose garbage is promoted much smaller than V8’s own choice', async () => {
    const [own, steady] = await Promise.all([peakHeapMb(0), peakHeapMb(50)]);
    expect(own).toBeGreaterThan(0);
    expect(steady).toBeGreaterThan(0);
    expect(steady).toBeLessThan(own * 0.75);
  }, 60_000);
});

describe('--heap-growth', () => {
  const spaces: Workspace[] = [];
  afterEach(() => {
    for (const space of spaces.splice(0)) space.remove();
  });

  async function tunedBy(args: string[]): Promise<number[]> {
    const space = createWorkspace();
    spaces.push(space);
    const file = space.writeFile('nightshift.yaml', nightshiftFile(space, []));
    const tuned: number[] = [];
    const stdout: string[] = [];
    let stop: (signal: string) => void = () => undefined;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const context: CliContext = {
      out: (line) => stdout.push(line),
      err: () => undefined,
      env: {},
      waitForStop: () => stopped,
      tuneHeap: (percent) => tuned.push(percent),
    };
    const exited = runCli(['run', file, '--no-server', ...args], context);
    await waitFor(
      () => stdout.find((line) => line.includes(': running ')),
      'the start line',
      10_000,
    );
    stop('SIGTERM');
    expect(await exited).toBe(0);
    return tuned;
  }

  it('nightshift run sets 100 % by default, and what it is given', async () => {
    expect(await tunedBy([])).toEqual([DEFAULT_HEAP_GROWTH]);
    expect(await tunedBy(['--heap-growth', '0'])).toEqual([0]);
    expect(await tunedBy(['--heap-growth', '250'])).toEqual([250]);
  });

  it('refuses a value out of range, naming the option', async () => {
    for (const command of ['run', 'worker'])
      for (const bad of ['301', '-5', 'lots', '1.5']) {
        const result = await runInProcess([command, 'nightshift.yaml', '--heap-growth', bad]);
        expect(result.code).not.toBe(0);
        expect(result.stderr.join('\n')).toMatch(
          /--heap-growth.*must be a whole number from 0 to 300/,
        );
      }
  });
});
