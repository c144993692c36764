import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { NightshiftError } from '../../errors.js';
import { resolveInsideDirectory } from '../safety/index.js';
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

// Not every platform has O_NOFOLLOW; where it exists, append refuses a symlink swapped in late.
const APPEND_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0);

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
      if (input.mode === 'append') {
        const handle = await open(target.path, APPEND_FLAGS, 0o644);
        try {
          await handle.write(data);
          await handle.sync();
        } finally {
          await handle.close();
        }
      } else {
        await replaceAtomically(target.path, data, target.exists);
      }
      const { size } = await stat(target.path);
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
 * Writes a temporary file next to the target, flushes it, and renames it over the target: a
 * reader sees the old file or the new one, never half of one, also across a crash.
 */
async function replaceAtomically(target: string, data: Buffer, exists: boolean): Promise<void> {
  const mode = exists ? (await stat(target)).mode & 0o777 : 0o644;
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomUUID()}.tmp`,
  );
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.write(data);
    await handle.sync();
    await handle.close();
    await rename(temporary, target);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(path.dirname(target));
}

/** Makes a rename durable; some platforms cannot open a directory, and lose only durability. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
