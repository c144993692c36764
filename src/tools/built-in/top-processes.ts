import { readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';

/** One process as `system_stats` reports it. */
export interface ProcessUsage {
  pid: number;
  /** The program's name as the kernel keeps it (`/proc/<pid>/comm`, at most 15 characters). */
  name: string;
  /** The full command line: only when configured, since arguments can carry secrets. */
  command?: string;
  /** Share of one CPU core over the sample window (can exceed 100 on several cores). */
  cpu_percent: number;
  memory_bytes: number;
  memory_percent: number;
}

/** The busiest processes, and the whole machine's CPU use over the same window. */
export interface ProcessReport {
  available: true;
  sample_ms: number;
  cpu_used_percent: number;
  process_count: number;
  by_cpu: ProcessUsage[];
  by_memory: ProcessUsage[];
}

interface Sample {
  ticks: number;
  residentPages: number;
  name: string;
}

const READ_BATCH = 64;
const COMMAND_CHARS = 200;

/** Total and idle CPU ticks of the machine, from `/proc/stat`. */
async function machineTicks(): Promise<{ total: number; idle: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  // idle + iowait
  return { total, idle: (values[3] ?? 0) + (values[4] ?? 0) };
}

async function processSamples(): Promise<Map<number, Sample>> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const samples = new Map<number, Sample>();
  // In batches: a machine with thousands of processes must not open thousands of files at once.
  for (let start = 0; start < pids.length; start += READ_BATCH) {
    await Promise.all(
      pids.slice(start, start + READ_BATCH).map(async (pid) => {
        try {
          const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
          // The name is in parentheses and may itself contain spaces and parentheses.
          const open = stat.indexOf('(');
          const close = stat.lastIndexOf(')');
          const fields = stat.slice(close + 2).split(' ');
          // Fields after the name start at field 3 (state); utime is 14, stime 15, rss 24.
          const ticks = Number(fields[11]) + Number(fields[12]);
          samples.set(pid, {
            ticks,
            residentPages: Number(fields[21]),
            name: stat.slice(open + 1, close),
          });
        } catch {
          // The process ended between listing and reading, or is not ours to read.
        }
      }),
    );
  }
  return samples;
}

async function residentBytes(pid: number, pages: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kilobytes = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    if (kilobytes !== undefined) return Number(kilobytes) * 1024;
  } catch {
    // Fall back to pages at the usual 4 KiB.
  }
  return pages * 4096;
}

async function commandLine(pid: number, name: string): Promise<string> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    const command = raw.replace(/\0+$/, '').replace(/\0/g, ' ');
    if (command === '') return `[${name}]`;
    return command.length > COMMAND_CHARS ? `${command.slice(0, COMMAND_CHARS)}…` : command;
  } catch {
    return `[${name}]`;
  }
}

const round = (value: number) => Math.round(value * 10) / 10;

/** Options of {@link topProcesses}. */
export interface TopProcessesOptions {
  /** Stops the sample window early. */
  signal?: AbortSignal;
  /**
   * Report each process's full command line besides its name and pid. Off by default: other
   * processes' arguments can hold tokens and passwords (`--token=…`), and what a tool returns
   * reaches events, stored conversations and the dashboard.
   */
  commandLines?: boolean;
}

/**
 * Samples `/proc` twice, `sampleMs` apart, and returns the `top` processes by CPU and by
 * resident memory. Linux only: elsewhere (no `/proc`) it says so instead of failing.
 */
export async function topProcesses(
  top: number,
  sampleMs: number,
  options: TopProcessesOptions = {},
): Promise<ProcessReport | { available: false; reason: string }> {
  const { signal, commandLines = false } = options;
  let before: Map<number, Sample>;
  let machineBefore: { total: number; idle: number };
  try {
    [before, machineBefore] = await Promise.all([processSamples(), machineTicks()]);
  } catch {
    return {
      available: false,
      reason: `process details need /proc (Linux); this is ${process.platform}`,
    };
  }
  await delay(sampleMs, undefined, signal ? { signal } : {});
  const [after, machineAfter] = await Promise.all([processSamples(), machineTicks()]);
  const elapsedTicks = Math.max(1, machineAfter.total - machineBefore.total);
  const cores = Math.max(1, os.cpus().length);
  const totalMemory = os.totalmem();
  const usage = [...after].map(([pid, sample]) => ({
    pid,
    sample,
    // Ticks are summed over all cores in /proc/stat; scaling by the core count gives "% of one core".
    cpu:
      (Math.max(0, sample.ticks - (before.get(pid)?.ticks ?? sample.ticks)) / elapsedTicks) *
      100 *
      cores,
  }));
  const describe = async ({ pid, sample, cpu }: (typeof usage)[number]): Promise<ProcessUsage> => {
    const memory = await residentBytes(pid, sample.residentPages);
    return {
      pid,
      name: sample.name,
      ...(commandLines ? { command: await commandLine(pid, sample.name) } : {}),
      cpu_percent: round(cpu),
      memory_bytes: memory,
      memory_percent: round((memory / totalMemory) * 100),
    };
  };
  const byCpu = [...usage].sort((a, b) => b.cpu - a.cpu).slice(0, top);
  // Kernel threads hold no memory of their own; they are not "busiest by memory".
  const byMemory = usage
    .filter((entry) => entry.sample.residentPages > 0)
    .sort((a, b) => b.sample.residentPages - a.sample.residentPages)
    .slice(0, top);
  const machineIdle = machineAfter.idle - machineBefore.idle;
  return {
    available: true,
    sample_ms: sampleMs,
    cpu_used_percent: round(((elapsedTicks - machineIdle) / elapsedTicks) * 100),
    process_count: after.size,
    by_cpu: await Promise.all(byCpu.map(describe)),
    // A process may exit between the sample and this read: it no longer holds memory.
    by_memory: (await Promise.all(byMemory.map(describe))).filter(
      (entry) => entry.memory_bytes > 0,
    ),
  };
}
