import { closeSync, constants, fsyncSync, openSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * Rows are archived in batches of at most this many: the recovery below looks back this many
 * lines, which must cover a whole batch.
 */
export const MAX_ARCHIVE_BATCH = 5_000;

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;
const FLAGS =
  constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | (constants.O_NOFOLLOW ?? 0);

const locks = new Map<string, Promise<unknown>>();

/**
 * A JSONL archive file, written so that moving rows into it never loses or duplicates one.
 *
 * The protocol, per batch (see `archivePostgres…` / `archiveSqlite…`):
 *   1. In one transaction, select and lock the batch's rows.
 *   2. Append them to the file, one JSON line per row, and fsync (and fsync the directory when
 *      the file is new) — the rows are now durable in the file.
 *   3. Delete exactly those rows and commit.
 * A crash before step 2 ends leaves the rows in the table (nothing committed) and at most a
 * partial last line, which {@link JsonlArchiveFile.open} cuts off. A crash between 2 and 3
 * leaves the batch in both places — and only that batch, only at the end of the file, because
 * the next run recovers before it appends anything: it reads the last lines written (`tail`),
 * finds the rows still in the table with those key values, and deletes those whose line is
 * byte-for-byte in the tail, without writing them again. A row changed since is no longer the
 * row archived, so it stays and is archived again in its new form. Serialisation is
 * deterministic (same column order, same type parsers), which is what makes lines comparable.
 *
 * One archiver per file at a time: within this process {@link withArchiveFile} serialises them
 * (and {@link withFileLock}, held by the parent while a SQLite child process archives).
 */
export class JsonlArchiveFile {
  readonly #handle: FileHandle;
  readonly #directory: string;
  #needsDirectorySync: boolean;
  /** The last lines of the file (complete ones), oldest first: at most one batch's worth. */
  readonly tail: readonly string[];

  private constructor(handle: FileHandle, directory: string, created: boolean, tail: string[]) {
    this.#handle = handle;
    this.#directory = directory;
    this.#needsDirectorySync = created;
    this.tail = tail;
  }

  /** Opens (creating) the file, cuts a partial last line left by a crash, and reads the tail. */
  static async open(file: string): Promise<JsonlArchiveFile> {
    const handle = await open(file, FLAGS, 0o644);
    try {
      const size = (await handle.stat()).size;
      const { lines, completeEnd } = await readTail(handle, size, MAX_ARCHIVE_BATCH);
      if (completeEnd < size) {
        await handle.truncate(completeEnd);
        await handle.sync();
      }
      return new JsonlArchiveFile(handle, path.dirname(file), size === 0, lines);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Appends the lines and makes them durable before returning. */
  async append(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    await this.#handle.write(`${lines.join('\n')}\n`);
    await this.#handle.sync();
    if (this.#needsDirectorySync) {
      const directory = await open(this.#directory, 'r').catch(() => undefined);
      await directory?.sync().catch(() => undefined);
      await directory?.close();
      this.#needsDirectorySync = false;
    }
  }

  /**
   * {@link append}, without yielding to the event loop: for SQLite, whose write lock is held
   * meanwhile, and whose other connections in this process wait for it synchronously.
   */
  appendSync(lines: readonly string[]): void {
    if (lines.length === 0) return;
    writeSync(this.#handle.fd, `${lines.join('\n')}\n`);
    fsyncSync(this.#handle.fd);
    if (this.#needsDirectorySync) {
      try {
        const directory = openSync(this.#directory, 'r');
        try {
          fsyncSync(directory);
        } finally {
          closeSync(directory);
        }
      } catch {
        // Some platforms cannot open a directory; only the new file's name is less durable there.
      }
      this.#needsDirectorySync = false;
    }
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/** Reads up to `maxLines` complete lines from the end of the file, and where they end. */
async function readTail(
  handle: FileHandle,
  size: number,
  maxLines: number,
): Promise<{ lines: string[]; completeEnd: number }> {
  const chunks: Buffer[] = [];
  let position = size;
  let newlines = 0;
  let completeEnd = -1;
  // Reads backwards until one more newline than needed is seen (it starts the oldest line kept).
  while (position > 0 && newlines <= maxLines) {
    const length = Math.min(CHUNK, position);
    position -= length;
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, position);
    chunks.unshift(buffer);
    for (let index = length - 1; index >= 0; index -= 1) {
      if (buffer[index] !== NEWLINE) continue;
      newlines += 1;
      if (completeEnd < 0) completeEnd = position + index + 1;
    }
  }
  if (completeEnd < 0) completeEnd = 0;
  const text = Buffer.concat(chunks)
    .subarray(0, completeEnd - position)
    .toString('utf8');
  const lines = text.split('\n').slice(0, -1);
  // Unless the read reached the start of the file, its first line is only a piece of a line.
  if (position > 0) lines.shift();
  return { lines: lines.slice(-maxLines).filter((line) => line !== ''), completeEnd };
}

/** Runs `work` with the file open, one archiver per file at a time within this process. */
export async function withArchiveFile<T>(
  file: string,
  work: (archive: JsonlArchiveFile) => Promise<T>,
): Promise<T> {
  return withFileLock(file, async () => {
    const archive = await JsonlArchiveFile.open(file);
    try {
      return await work(archive);
    } finally {
      await archive.close();
    }
  });
}

/**
 * Runs `work` while no other archiver of this process uses `file`. A SQLite archive writes the
 * file in a child process; the parent holds this lock for it meanwhile.
 */
export async function withFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const previous = locks.get(file) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(work);
  locks.set(file, run);
  try {
    return await run;
  } finally {
    if (locks.get(file) === run) locks.delete(file);
  }
}

/** The key values of the tail's rows, for finding which of them are still in the table. */
export function tailKeys(tail: readonly string[], keyColumn: string): unknown[] {
  const keys = new Set<unknown>();
  for (const line of tail) {
    try {
      const row = JSON.parse(line) as Record<string, unknown>;
      const key = row[keyColumn];
      if (key !== undefined && key !== null) keys.add(key);
    } catch {
      // A line this protocol did not write: it cannot be a row of ours awaiting deletion.
    }
  }
  return [...keys];
}
