import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { z } from 'zod';
import type { ToolDefinition } from '../tool-definition.js';
import { mountedFilesystems, type MountedFilesystem } from './mounted-filesystems.js';
import { topProcesses } from './top-processes.js';

/** At most this many mounts are reported, so a host with hundreds of mounts stays readable. */
const MAX_DISKS = 20;

const inputSchema = z.object({
  paths: z
    .array(z.string())
    .max(MAX_DISKS)
    .optional()
    .describe(
      'Paths or mount points to report disk usage for (default: every real filesystem mounted, up to 20).',
    ),
  top_processes: z
    .number()
    .int()
    .min(0)
    .max(25)
    .default(5)
    .describe(
      'How many of the busiest processes to list by CPU and by memory (default 5; 0 for none).',
    ),
  cpu_sample_ms: z
    .number()
    .int()
    .min(50)
    .max(5_000)
    .default(250)
    .describe('How long to watch CPU use per process, in milliseconds (default 250).'),
});

/** Input of {@link systemStatsTool}. */
export type SystemStatsInput = z.infer<typeof inputSchema>;

const percent = (part: number, whole: number) =>
  whole === 0 ? 0 : Math.round((part / whole) * 1000) / 10;

async function diskUsage(path: string, mount?: MountedFilesystem) {
  const described = mount ? { device: mount.device, filesystem: mount.type } : {};
  try {
    const stats = await statfs(path);
    const size = stats.blocks * stats.bsize;
    const available = stats.bavail * stats.bsize;
    // Used space counts blocks reserved for root: what a full disk feels like to services.
    const used = size - stats.bfree * stats.bsize;
    return {
      path,
      ...described,
      total_bytes: size,
      free_bytes: available,
      used_percent: percent(used, used + available),
      ...(stats.files > 0
        ? { inodes_used_percent: percent(stats.files - stats.ffree, stats.files) }
        : {}),
    };
  } catch (error) {
    return { path, ...described, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Settings of {@link createSystemStatsTool} (the `system_stats` block of a Nightshift file). */
export interface SystemStatsOptions {
  /**
   * List each busy process with its full command line, not only its name and pid. Off by
   * default: another process's arguments can carry secrets (`--token=…`), and the tool's output
   * is published in events and on the dashboard (redacted of the secrets the service knows).
   */
  command_lines?: boolean;
}

/**
 * Builds `system_stats`: CPU load, memory, disk usage per mount, the busiest processes (by name
 * and pid; full command lines only with `command_lines`) and uptime of this machine.
 */
export function createSystemStatsTool(
  options: SystemStatsOptions = {},
): ToolDefinition<SystemStatsInput> {
  const commandLines = options.command_lines ?? false;
  return {
    description:
      'Read this machine’s CPU load and use, memory use, disk use per mounted filesystem, the ' +
      'busiest processes by CPU and by memory, and uptime. Read-only.',
    inputSchema,
    idempotent: true,
    execute: (input, context) => readSystemStats(input, context.abortSignal, commandLines),
  };
}

/** `system_stats` as every service has it: processes by name and pid, no command lines. */
export const systemStatsTool: ToolDefinition<SystemStatsInput> = createSystemStatsTool();

async function readSystemStats(
  input: SystemStatsInput,
  signal: AbortSignal,
  commandLines: boolean,
) {
  const cpus = os.cpus().length;
  const [load1, load5, load15] = os.loadavg();
  const total = os.totalmem();
  const free = os.freemem();
  const mounts = input.paths ? [] : await mountedFilesystems();
  const targets: Array<{ path: string; mount?: MountedFilesystem }> = input.paths
    ? input.paths.map((path) => ({ path }))
    : mounts.length > 0
      ? mounts.map((mount) => ({ path: mount.mount_point, mount }))
      : [{ path: '/' }];
  const [disks, processes] = await Promise.all([
    Promise.all(targets.slice(0, MAX_DISKS).map(({ path, mount }) => diskUsage(path, mount))),
    input.top_processes > 0
      ? topProcesses(input.top_processes, input.cpu_sample_ms, { signal, commandLines })
      : undefined,
  ]);
  return {
    hostname: os.hostname(),
    platform: process.platform,
    cpu: {
      cores: cpus,
      load_1m: load1,
      load_5m: load5,
      load_15m: load15,
      load_percent: percent(load1 ?? 0, cpus),
      ...(processes?.available ? { used_percent: processes.cpu_used_percent } : {}),
    },
    memory: { total_bytes: total, free_bytes: free, used_percent: percent(total - free, total) },
    disks,
    ...(targets.length > MAX_DISKS ? { disks_left_out: targets.length - MAX_DISKS } : {}),
    ...(processes === undefined ? {} : { processes }),
    uptime_seconds: Math.round(os.uptime()),
    process_uptime_seconds: Math.round(process.uptime()),
  };
}
