import { randomUUID } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { NightshiftError } from '../../errors.js';
import {
  assertOpenedInside,
  openForAppend,
  resolveInsideDirectory,
  type PathInsideDirectory,
} from '../safety/index.js';
import type { ToolDefinition } from '../tool-definition.js';

/** Where {@link createFileWriteTool} writes, and how much. */
export interface FileWriteOptions {
  /** The only directory the tool writes in (created if missing). */
  directory: string;
  /** Largest content accepted per call, in UTF-8 bytes (default 10 MB). */
  max_bytes?: number;
}

const inputSchema = z.object({
  path: z
    .string()
    .min(1)
    .max(1024)
    .describe('File path relative to the output directory, e.g. "reports/2024-06-01.md".'),
  content: z.string().describe('The text to write (UTF-8).'),
  mode: z
    .enum(['overwrite', 'append'])
    .default('overwrite')
    .describe('"overwrite" replaces the file atomically (default); "append" adds to its end.'),
});

/** Input of the tool {@link createFileWriteTool} builds. */
export type FileWriteInput = z.infer<typeof inputSchema>;

/** Result of one write. */
export interface FileWriteResult {
  path: string;
  mode: 'overwrite' | 'append';
  bytes_written: number;
  size_bytes: number;
}

/** Builds `file_write`: writes text files inside one directory and nowhere else. */
export function createFileWriteTool(
  options: FileWriteOptions,
): ToolDefinition<FileWriteInput, FileWriteResult> {
  const directory = path.resolve(options.directory);
  const maxBytes = options.max_bytes ?? 10_000_000;
  return {
    description:
      'Write a text file inside the output directory. `path` is relative to it (no "..", no ' +
      'absolute paths; symbolic links leading out are refused). mode "overwrite" replaces the ' +
      'file atomically — repeating it is harmless; mode "append" adds to the end — repeating it ' +
      'appends twice, so this tool is not idempotent.',
    inputSchema,
    idempotent: false,
    async execute(input) {
      const data = Buffer.from(input.content, 'utf8');
      if (data.length > maxBytes) {
        throw new NightshiftError(
          'tool_error',
          `content is ${data.length} bytes; the limit is ${maxBytes} bytes`,
        );
      }
      const target = await resolveInsideDirectory(directory, input.path);
      const size =
        input.mode === 'append'
          ? await appendTo(target, data)
          : await replaceAtomically(target, data);
      return {
        path: target.relative,
        mode: input.mode,
        bytes_written: data.length,
        size_bytes: size,
      };
    },
  };
}

/**
 * Appends through a handle `openForAppend` checked (a regular file, no other hard link, still
 * inside the directory) and returns the file's size after the write.
 */
async function appendTo(target: PathInsideDirectory, data: Buffer): Promise<number> {
  const handle = await openForAppend(target);
  try {
    await handle.write(data);
    await handle.sync();
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}

/**
 * Writes a temporary file next to the target, flushes it, and renames it over the target: a
 * reader sees the old file or the new one, never half of one, also across a crash. The rename
 * replaces the name, so a hard link or symbolic link there is replaced, never written through.
 * Returns the new file's size.
 */
async function replaceAtomically(target: PathInsideDirectory, data: Buffer): Promise<number> {
  const mode = target.exists ? (await stat(target.path)).mode & 0o777 : 0o644;
  const temporary = path.join(
    path.dirname(target.path),
    `.${path.basename(target.path)}.${randomUUID()}.tmp`,
  );
  // `wx` is exclusive: it creates a new file and never follows a link at the temporary name.
  const handle = await open(temporary, 'wx', mode);
  try {
    // The parent was checked before; a parent swapped for a link out since is caught here.
    await assertOpenedInside(target, temporary, handle);
    await handle.write(data);
    await handle.sync();
    const { size } = await handle.stat();
    await handle.close();
    await rename(temporary, target.path);
    await syncDirectory(path.dirname(target.path));
    return size;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** Makes a rename durable; some platforms cannot open a directory, and lose only durability. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
