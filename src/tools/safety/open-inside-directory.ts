import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, realpath, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { NightshiftError } from '../../errors.js';
import { isInside, type PathInsideDirectory } from './resolve-inside-directory.js';

// Where a platform lacks O_NOFOLLOW (Windows), the checks after opening still apply.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
// Opening a FIFO for writing would wait for a reader; non-blocking, it opens or fails at once and
// is then refused as not a regular file. Regular files ignore the flag.
const NON_BLOCKING = constants.O_NONBLOCK ?? 0;
const APPEND = constants.O_WRONLY | constants.O_APPEND | NO_FOLLOW | NON_BLOCKING;
const CREATE = APPEND | constants.O_CREAT | constants.O_EXCL;

/**
 * Opens a file that `resolveInsideDirectory` checked, for appending, and checks what was opened
 * before anything is written: a regular file with no other hard link (a link inside the
 * directory to a file outside it would take the append out), still inside the directory (its
 * parent's real path is checked again, so a parent swapped for a symbolic link is caught), and
 * still the file at that path. The last component is never followed if it became a link. An
 * empty file this created in a swapped-in place is removed again.
 */
export async function openForAppend(target: PathInsideDirectory): Promise<FileHandle> {
  let handle: FileHandle | undefined;
  if (!target.exists) {
    // Exclusive: a file that appeared meanwhile is opened (and checked) like any existing one.
    handle = await open(target.path, CREATE, 0o644).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return undefined;
      throw openFailure(target, error);
    });
  }
  const created = handle !== undefined;
  handle ??= await open(target.path, APPEND).catch((error: NodeJS.ErrnoException) => {
    throw openFailure(target, error);
  });
  try {
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) {
      throw refusal(target, `"${target.relative}" is not a regular file`);
    }
    if (stats.nlink > 1n) {
      throw refusal(
        target,
        `"${target.relative}" has another hard link (${stats.nlink} names in all), which may lie outside the directory; appending through it is not allowed`,
      );
    }
    await assertOpenedInside(target, target.path, handle);
    return handle;
  } catch (error) {
    const opened = created ? await handle.stat({ bigint: true }).catch(() => undefined) : undefined;
    await handle.close();
    if (opened) await removeIfUnchanged(target.path, opened);
    throw error;
  }
}

/**
 * Checks that the file open as `handle` (at `openedPath`, the target or a file next to it) is
 * inside the target's directory: its parent's real path lies inside it, and the name there is
 * still the opened file. Refuses otherwise; the caller closes the handle.
 */
export async function assertOpenedInside(
  target: PathInsideDirectory,
  openedPath: string,
  handle: FileHandle,
): Promise<void> {
  const parent = await realpath(path.dirname(openedPath)).catch(() => undefined);
  if (parent === undefined || !isInside(target.root, parent)) {
    throw refusal(
      target,
      `"${target.relative}" moved outside the directory while it was being opened`,
    );
  }
  const opened = await handle.stat({ bigint: true });
  const named = await lstat(path.join(parent, path.basename(openedPath)), {
    bigint: true,
  }).catch(() => undefined);
  if (!named || named.dev !== opened.dev || named.ino !== opened.ino) {
    throw refusal(target, `"${target.relative}" was replaced while it was being opened`);
  }
}

function openFailure(target: PathInsideDirectory, error: NodeJS.ErrnoException): Error {
  // O_NOFOLLOW reports a symbolic link as ELOOP: the checked file was swapped for one.
  if (error.code === 'ELOOP') {
    return refusal(target, `"${target.relative}" became a symbolic link while it was being opened`);
  }
  // ENXIO: a FIFO without a reader; EISDIR: a directory swapped in.
  if (error.code === 'ENXIO' || error.code === 'EISDIR') {
    return refusal(target, `"${target.relative}" is not a regular file`);
  }
  return error;
}

/** Removes the file this module just created, if `file` still names it and it is still empty. */
async function removeIfUnchanged(file: string, opened: BigIntStats): Promise<void> {
  const named = await lstat(file, { bigint: true }).catch(() => undefined);
  if (named?.dev === opened.dev && named.ino === opened.ino && named.size === 0n) {
    await unlink(file).catch(() => undefined);
  }
}

/** The same `tool_error` as `resolveInsideDirectory`'s refusals: the model reads its message. */
function refusal(target: PathInsideDirectory, reason: string): NightshiftError {
  return new NightshiftError('tool_error', `refused: ${reason}`, {
    details: { path: target.relative },
  });
}
