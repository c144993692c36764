import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { z } from 'zod';
import type { ToolDefinition } from '../tool-definition.js';

const inputSchema = z.object({
  paths: z
    .array(z.string())
    .max(20)
    .optional()
    .describe('Mount points to report disk usage for (default: "/").'),
});

const percent = (part: number, whole: number) =>
  whole === 0 ? 0 : Math.round((part / whole) * 1000) / 10;

/** Reads CPU load, memory, disk usage and uptime of the machine the agent runs on. */
export const systemStatsTool: ToolDefinition<z.infer<typeof inputSchema>> = {
  description:
    'Read this machine’s CPU load, memory use, disk use per mount point and uptime. Read-only.',
  inputSchema,
  idempotent: true,
  async execute(input) {
    const cpus = os.cpus().length;
    const [load1, load5, load15] = os.loadavg();
    const total = os.totalmem();
    const free = os.freemem();
    const disks = await Promise.all(
      (input.paths ?? ['/']).map(async (path) => {
        try {
          const stats = await statfs(path);
          const size = stats.blocks * stats.bsize;
          const available = stats.bavail * stats.bsize;
          return {
            path,
            total_bytes: size,
            free_bytes: available,
            used_percent: percent(size - available, size),
          };
        } catch (error) {
          return { path, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    return {
      hostname: os.hostname(),
      cpu: {
        cores: cpus,
        load_1m: load1,
        load_5m: load5,
        load_15m: load15,
        load_percent: percent(load1 ?? 0, cpus),
      },
      memory: { total_bytes: total, free_bytes: free, used_percent: percent(total - free, total) },
      disks,
      uptime_seconds: Math.round(os.uptime()),
      process_uptime_seconds: Math.round(process.uptime()),
    };
  },
};
