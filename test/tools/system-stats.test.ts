import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { systemStatsTool } from '../../src/tools/built-in/index.js';
import { runTool } from './tool-harness.js';

interface Stats {
  cpu: { cores: number; used_percent?: number };
  disks: Array<{
    path: string;
    total_bytes?: number;
    used_percent?: number;
    filesystem?: string;
    error?: string;
  }>;
  processes?: {
    available: boolean;
    by_cpu: Array<{ pid: number; cpu_percent: number; command: string }>;
    by_memory: Array<{ pid: number; memory_bytes: number; memory_percent: number }>;
  };
}

describe('system_stats', () => {
  it('reports disk usage per given path, and an error for a path that does not exist', async () => {
    const stats = (await runTool(systemStatsTool, {
      paths: ['/', '/definitely/not/here'],
      top_processes: 0,
    })) as Stats;
    expect(stats.disks[0]).toMatchObject({ path: '/' });
    expect(stats.disks[0]?.total_bytes).toBeGreaterThan(0);
    expect(stats.disks[1]).toMatchObject({
      path: '/definitely/not/here',
      error: expect.stringMatching(/ENOENT/),
    });
    expect(stats.processes).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')(
    'defaults to the real filesystems mounted, without kernel or in-memory ones',
    async () => {
      const stats = (await runTool(systemStatsTool, { top_processes: 0 })) as Stats;
      expect(stats.disks.length).toBeGreaterThan(0);
      expect(stats.disks.length).toBeLessThanOrEqual(20);
      for (const disk of stats.disks) {
        expect(disk.path).not.toMatch(/^\/(proc|sys|dev)(\/|$)/);
        expect(['tmpfs', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'devtmpfs']).not.toContain(
          disk.filesystem,
        );
      }
    },
  );

  it.runIf(process.platform === 'linux')(
    'lists the busiest processes by CPU and memory',
    async () => {
      const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
      try {
        await once(busy, 'spawn');
        const stats = (await runTool(systemStatsTool, {
          paths: ['/'],
          top_processes: 25,
          cpu_sample_ms: 400,
        })) as Stats;
        expect(stats.processes?.available).toBe(true);
        expect(stats.cpu.used_percent).toBeGreaterThan(0);
        const byCpu = stats.processes?.by_cpu ?? [];
        expect(byCpu.length).toBeGreaterThan(0);
        expect(byCpu.map((entry) => entry.cpu_percent)).toEqual(
          [...byCpu.map((entry) => entry.cpu_percent)].sort((a, b) => b - a),
        );
        const spinner = byCpu.find((entry) => entry.pid === busy.pid);
        expect(spinner?.command).toContain('for (;;) {}');
        expect(spinner?.cpu_percent).toBeGreaterThan(10);
        expect(stats.processes?.by_memory.length).toBeGreaterThan(0);
        for (const entry of stats.processes?.by_memory ?? []) {
          expect(entry.memory_bytes).toBeGreaterThan(0);
          expect(entry.memory_percent).toBeGreaterThanOrEqual(0);
        }
      } finally {
        busy.kill('SIGKILL');
      }
    },
  );
});
