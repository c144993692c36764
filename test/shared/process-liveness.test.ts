import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultInstanceId,
  localScope,
  ownerKnownDead,
  parseInstanceId,
} from '../../src/shared/process-liveness.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A real process of this machine that stays alive until killed. */
async function liveProcess(): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(child);
  await new Promise<void>((spawned) => child.once('spawn', () => spawned()));
  return child as ChildProcess & { pid: number };
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGKILL');
  await exited;
}

/** The default instance id a process with this pid would have had on this machine. */
function idOf(pid: number, scope: string | undefined = localScope()): string {
  return `${hostname()}:${pid}:a1b2c3${scope === undefined ? '' : `.${scope}`}`;
}

describe('telling a lease owner is dead', () => {
  it('names this process by host, pid, suffix and, on Linux, its pid namespace', () => {
    const id = defaultInstanceId();
    expect(parseInstanceId(id)).toEqual({
      host: hostname(),
      pid: process.pid,
      ...(localScope() === undefined ? {} : { scope: localScope() }),
    });
    if (process.platform === 'linux') expect(localScope()).toMatch(/^[0-9a-f]{12}$/);
    // Ids chosen by the user, or of another shape, say nothing of a process.
    expect(parseInstanceId('worker-7')).toBeUndefined();
    expect(parseInstanceId('host:0:abc')).toBeUndefined();
    expect(parseInstanceId('old-host:42:a1b2c3')).toEqual({ host: 'old-host', pid: 42 });
  });

  it.runIf(process.platform === 'linux')(
    'knows a process of this machine dead once its pid is gone, and never while it lives',
    async () => {
      const child = await liveProcess();
      expect(ownerKnownDead(idOf(child.pid))).toBe(false);
      expect(ownerKnownDead(`${idOf(child.pid)}/agent.123`)).toBe(false);
      await killed(child);
      expect(ownerKnownDead(idOf(child.pid))).toBe(true);
      // An overlap lease's holder names the instance, then the run.
      expect(ownerKnownDead(`${idOf(child.pid)}/agent.123`)).toBe(true);
    },
  );

  it.runIf(process.platform === 'linux')(
    'does not guess: another pid namespace or machine, no scope, this very process, no owner',
    async () => {
      const child = await liveProcess();
      await killed(child);
      // Another container or machine sees other pids: a pid missing here says nothing there.
      expect(ownerKnownDead(idOf(child.pid, '0123456789ab'))).toBe(false);
      // An id from before scopes were recorded, or chosen by the user.
      expect(ownerKnownDead(idOf(child.pid, undefined).replace(/\.[0-9a-f]+$/, ''))).toBe(false);
      expect(ownerKnownDead(`my-worker-${child.pid}`)).toBe(false);
      // Several services may share one process: its own pid is alive.
      expect(ownerKnownDead(idOf(process.pid))).toBe(false);
      expect(ownerKnownDead(null)).toBe(false);
      expect(ownerKnownDead(undefined)).toBe(false);
    },
  );
});
