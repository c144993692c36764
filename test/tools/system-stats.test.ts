import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNightshiftFile } from '../../src/config/load-config-file.js';
import { systemStatsTool } from '../../src/tools/built-in/index.js';
import { createSystemStatsTool } from '../../src/tools/built-in/system-stats.js';
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
    by_cpu: Array<{ pid: number; name: string; cpu_percent: number; command?: string }>;
    by_memory: Array<{
      pid: number;
      name: string;
      memory_bytes: number;
      memory_percent: number;
      command?: string;
    }>;
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
        const stats = (await runTool(createSystemStatsTool({ command_lines: true }), {
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

  describe.runIf(process.platform === 'linux')('other processes’ command lines', () => {
    const SECRET = 'sk-test-cmdline-123';

    /**
     * A real idle process with a secret on its command line. It holds 128 MiB so it ranks among
     * the busiest by memory on any test machine, and says `ready` once that memory is resident.
     */
    async function startSecretHolder() {
      const child = spawn(
        process.execPath,
        [
          '-e',
          "const held = Buffer.alloc(128 * 1024 * 1024, 1); process.stdout.write('ready'); setInterval(() => held.length, 1000);",
          '--',
          `--token=${SECRET}`,
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      expect(chunk.toString()).toBe('ready');
      return child;
    }

    it('names other processes by program and pid only, never their arguments', async () => {
      const holder = await startSecretHolder();
      try {
        const stats = (await runTool(systemStatsTool, {
          paths: ['/'],
          top_processes: 25,
          cpu_sample_ms: 50,
        })) as Stats;
        const listed = stats.processes?.by_memory.find((entry) => entry.pid === holder.pid);
        expect(listed).toMatchObject({ pid: holder.pid, name: 'node' });
        expect(listed).not.toHaveProperty('command');
        expect(JSON.stringify(stats)).not.toContain(SECRET);
        expect(JSON.stringify(stats)).not.toContain('--token');
      } finally {
        holder.kill('SIGKILL');
      }
    });

    it('lists full command lines only when the Nightshift file says command_lines: true', async () => {
      const holder = await startSecretHolder();
      const directory = mkdtempSync(join(tmpdir(), 'nightshift-system-stats-'));
      try {
        const path = join(directory, 'nightshift.yaml');
        writeFileSync(
          path,
          [
            'memory: { backend: in_memory }',
            'events: { backend: in_memory }',
            'system_stats: { command_lines: true }',
            'agents: []',
          ].join('\n'),
        );
        const { toolSettings } = loadNightshiftFile(path, { env: {} });
        expect(toolSettings.system_stats).toEqual({ command_lines: true });
        const stats = (await runTool(createSystemStatsTool(toolSettings.system_stats), {
          paths: ['/'],
          top_processes: 25,
          cpu_sample_ms: 50,
        })) as Stats;
        const listed = stats.processes?.by_memory.find((entry) => entry.pid === holder.pid);
        expect(listed?.command).toContain(`--token=${SECRET}`);
      } finally {
        holder.kill('SIGKILL');
        rmSync(directory, { recursive: true, force: true });
      }
    });
  });
});
