import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';

/**
 * Telling that the process named in a lease has died, sooner than its lease runs out.
 *
 * A default instance id is `host:pid:suffix.scope`, where `scope` names the pid namespace the
 * process lives in: a digest of the machine's boot id and the namespace's inode (Linux). Two
 * processes of one scope see the same pids, so when a lease names a pid of this scope that no
 * longer exists, its process is dead for sure: its runs can be taken over now, not a lease TTL
 * later (a manager restarted on the same machine, a worker beside a killed one). Anything else
 * (another machine, another container, no `/proc`, an instance id chosen by the user, a pid that
 * exists or was reused) is not known dead, and waits for its lease as before.
 */

let memoizedScope: string | null | undefined;

/** This process's pid namespace, as a short digest; undefined where it cannot be told. */
export function localScope(): string | undefined {
  if (memoizedScope === undefined) memoizedScope = readScope();
  return memoizedScope ?? undefined;
}

function readScope(): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const namespace = readlinkSync('/proc/self/ns/pid');
    if (!boot || !namespace) return null;
    return createHash('sha256').update(`${boot}\n${namespace}`).digest('hex').slice(0, 12);
  } catch {
    return null;
  }
}

/** The instance id of a service that was given none: `host:pid:suffix`, and `.scope` where known. */
export function defaultInstanceId(): string {
  const scope = localScope();
  const id = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  return scope === undefined ? id : `${id}.${scope}`;
}

/** What a default instance id says of its process. */
export interface InstanceIdParts {
  host: string;
  pid: number;
  scope?: string;
}

/** Reads a default instance id; undefined for one of another shape (chosen by the user). */
export function parseInstanceId(instanceId: string): InstanceIdParts | undefined {
  const match = /^(.+):(\d+):[0-9a-f]+(?:\.([0-9a-f]+))?$/.exec(instanceId);
  if (!match) return undefined;
  const pid = Number(match[2]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { host: match[1]!, pid, ...(match[3] ? { scope: match[3] } : {}) };
}

/** Whether a process with this pid exists here (signal 0 checks without signalling). */
export function processAnswers(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process a lease names (an instance id, or an overlap lease's `instanceId/runId`)
 * is known to have died: it lived in this pid namespace and its pid is gone. This process's own
 * pid is never dead (several services may share a process).
 */
export function ownerKnownDead(owner: string | null | undefined): boolean {
  if (!owner) return false;
  const slash = owner.indexOf('/');
  const parts = parseInstanceId(slash === -1 ? owner : owner.slice(0, slash));
  const scope = localScope();
  if (!parts?.scope || scope === undefined || parts.scope !== scope) return false;
  if (parts.pid === process.pid) return false;
  return !processAnswers(parts.pid);
}
