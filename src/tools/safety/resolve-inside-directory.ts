import { lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { NightshiftError } from '../../errors.js';

/** A file path checked to lie inside a directory. */
export interface PathInsideDirectory {
  /** The real path to open: inside the directory's real path. */
  path: string;
  /** The path as the caller wrote it, normalised (for messages and results). */
  relative: string;
  exists: boolean;
  /** The directory's real path, which `path` lies inside (to check again after opening). */
  root: string;
}

/**
 * Resolves `relativePath` inside `directory` for writing, creating missing parent directories
 * one at a time (so a symlinked parent is checked before anything is created through it).
 * Refuses absolute paths, `..` segments, and symbolic links — as a parent or as the file
 * itself — whose real target lies outside the directory. This guards against paths a model
 * writes; it does not defend against another local process swapping files in meanwhile.
 */
export async function resolveInsideDirectory(
  directory: string,
  relativePath: string,
): Promise<PathInsideDirectory> {
  const segments = checkedSegments(relativePath);
  const relative = segments.join('/');
  const name = segments.pop() ?? '';
  await mkdir(directory, { recursive: true });
  const root = await realpath(directory);
  let current = root;
  for (const [index, segment] of segments.entries()) {
    const shown = segments.slice(0, index + 1).join('/');
    current = await enterDirectory(root, path.join(current, segment), shown, relative);
  }
  const target = path.join(current, name);
  const stats = await lstatOrUndefined(target);
  if (!stats) return { path: target, relative, exists: false, root };
  if (stats.isSymbolicLink()) {
    const real = await realpath(target).catch(() => {
      throw refusal(relative, `"${relative}" is a symbolic link to a missing target`);
    });
    if (!isInside(root, real)) {
      throw refusal(relative, `"${relative}" is a symbolic link that leads outside the directory`);
    }
    const targetStats = await lstat(real);
    if (targetStats.isDirectory()) throw refusal(relative, `"${relative}" is a directory`);
    return { path: real, relative, exists: true, root };
  }
  if (stats.isDirectory()) throw refusal(relative, `"${relative}" is a directory`);
  return { path: target, relative, exists: true, root };
}

function checkedSegments(relativePath: string): string[] {
  if (relativePath.includes('\0')) throw refusal(relativePath, 'the path contains a NUL byte');
  if (relativePath.includes('\\')) {
    throw refusal(relativePath, `"${relativePath}" contains "\\"; separate directories with "/"`);
  }
  if (path.posix.isAbsolute(relativePath) || path.win32.isAbsolute(relativePath)) {
    throw refusal(
      relativePath,
      `"${relativePath}" is an absolute path; give a path relative to the directory`,
    );
  }
  const segments = relativePath.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) {
    throw refusal(relativePath, `"${relativePath}" contains "..", which could leave the directory`);
  }
  if (segments.length === 0) throw refusal(relativePath, 'the path names no file');
  return segments;
}

async function enterDirectory(
  root: string,
  candidate: string,
  shown: string,
  relative: string,
): Promise<string> {
  const stats = await lstatOrUndefined(candidate);
  if (!stats) {
    await mkdir(candidate).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    // Whatever exists there now (we, or someone faster, created it) is checked like any other.
    return enterDirectory(root, candidate, shown, relative);
  }
  if (stats.isSymbolicLink()) {
    const real = await realpath(candidate).catch(() => {
      throw refusal(relative, `"${shown}" is a symbolic link to a missing target`);
    });
    if (!isInside(root, real)) {
      throw refusal(relative, `"${shown}" is a symbolic link that leads outside the directory`);
    }
    if (!(await lstat(real)).isDirectory()) {
      throw refusal(relative, `"${shown}" is not a directory`);
    }
    return real;
  }
  if (!stats.isDirectory()) throw refusal(relative, `"${shown}" is not a directory`);
  return candidate;
}

async function lstatOrUndefined(target: string) {
  try {
    return await lstat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** True when `candidate` is `root` or lies below it (both real paths). */
export function isInside(root: string, candidate: string): boolean {
  return (
    candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep)
  );
}

function refusal(relativePath: string, reason: string): NightshiftError {
  return new NightshiftError('tool_error', `refused: ${reason}`, {
    details: { path: relativePath },
  });
}
