import { readFile } from 'node:fs/promises';

/** A mounted filesystem, as listed in `/proc/mounts`. */
export interface MountedFilesystem {
  device: string;
  mount_point: string;
  type: string;
}

/** Kernel and in-memory filesystems: their "disk usage" is not disk usage. */
const VIRTUAL_TYPES = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'efivarfs',
  'fusectl',
  'hugetlbfs',
  'mqueue',
  'nsfs',
  'proc',
  'pstore',
  'ramfs',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'squashfs',
  'sysfs',
  'tmpfs',
  'tracefs',
]);

const SYSTEM_TREES = ['/proc', '/sys', '/dev', '/run'];

/** `/proc/mounts` escapes space, tab, newline and backslash as octal (`\040`). */
const unescape = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_match, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );

/**
 * The real (disk-backed or network) filesystems mounted on this machine, one per device — bind
 * mounts of the same device are left out — shortest mount point first. Empty where there is
 * no `/proc/mounts` (not Linux).
 */
export async function mountedFilesystems(): Promise<MountedFilesystem[]> {
  let text: string;
  try {
    text = await readFile('/proc/mounts', 'utf8');
  } catch {
    return [];
  }
  const mounts = text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length >= 3)
    .map(([device = '', mountPoint = '', type = '']) => ({
      device: unescape(device),
      mount_point: unescape(mountPoint),
      type,
    }))
    .filter(
      (mount) =>
        !VIRTUAL_TYPES.has(mount.type) &&
        !SYSTEM_TREES.some(
          (tree) => mount.mount_point === tree || mount.mount_point.startsWith(`${tree}/`),
        ),
    )
    .sort((a, b) => a.mount_point.length - b.mount_point.length);
  const seen = new Set<string>();
  return mounts.filter((mount) => {
    const key = `${mount.device}\0${mount.type}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
