import {
  link,
  mkdtemp,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileWriteTool } from '../../src/tools/built-in/index.js';
import { openForAppend, resolveInsideDirectory } from '../../src/tools/safety/index.js';
import { runTool } from './tool-harness.js';

let sandbox: string;
let directory: string;
let outside: string;

beforeEach(async () => {
  sandbox = await mkdtemp(path.join(os.tmpdir(), 'nightshift-file-write-'));
  directory = path.join(sandbox, 'output');
  outside = path.join(sandbox, 'outside');
  await mkdir(directory);
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.txt'), 'do not touch');
});
afterEach(() => rm(sandbox, { recursive: true, force: true }));

describe('file_write', () => {
  it('overwrites atomically, creating parent directories, and leaves no temporary file', async () => {
    const tool = createFileWriteTool({ directory });
    await runTool(tool, { path: 'reports/daily.md', content: 'first' });
    const result = await runTool(tool, { path: 'reports/daily.md', content: 'second version' });
    expect(result).toEqual({
      path: 'reports/daily.md',
      mode: 'overwrite',
      bytes_written: 14,
      size_bytes: 14,
    });
    expect(await readFile(path.join(directory, 'reports/daily.md'), 'utf8')).toBe('second version');
    expect(await readdir(path.join(directory, 'reports'))).toEqual(['daily.md']);
  });

  it('appends', async () => {
    const tool = createFileWriteTool({ directory });
    await runTool(tool, { path: 'log.txt', content: 'a\n', mode: 'append' });
    const result = await runTool(tool, { path: './log.txt', content: 'b\n', mode: 'append' });
    expect(result).toMatchObject({ path: 'log.txt', size_bytes: 4 });
    expect(await readFile(path.join(directory, 'log.txt'), 'utf8')).toBe('a\nb\n');
  });

  it('refuses "../" escapes', async () => {
    const tool = createFileWriteTool({ directory });
    await expect(runTool(tool, { path: '../outside/secret.txt', content: 'x' })).rejects.toThrow(
      'refused: "../outside/secret.txt" contains ".."',
    );
    await expect(runTool(tool, { path: 'a/../../escape.txt', content: 'x' })).rejects.toThrow(
      'refused',
    );
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('do not touch');
    expect((await readdir(sandbox)).sort()).toEqual(['output', 'outside']);
  });

  it('refuses absolute paths', async () => {
    const tool = createFileWriteTool({ directory });
    const target = path.join(outside, 'secret.txt');
    await expect(runTool(tool, { path: target, content: 'x' })).rejects.toThrow(
      'is an absolute path',
    );
    expect(await readFile(target, 'utf8')).toBe('do not touch');
  });

  it('refuses a symlinked directory that leads outside, creating nothing through it', async () => {
    await symlink(outside, path.join(directory, 'link'));
    const tool = createFileWriteTool({ directory });
    await expect(runTool(tool, { path: 'link/new/file.txt', content: 'x' })).rejects.toThrow(
      'refused: "link" is a symbolic link that leads outside the directory',
    );
    await expect(
      runTool(tool, { path: 'link/secret.txt', content: 'x', mode: 'append' }),
    ).rejects.toThrow('leads outside');
    expect(await readdir(outside)).toEqual(['secret.txt']);
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('do not touch');
  });

  it('refuses a symlink as the final component when it points outside', async () => {
    await symlink(path.join(outside, 'secret.txt'), path.join(directory, 'notes.txt'));
    const tool = createFileWriteTool({ directory });
    for (const mode of ['overwrite', 'append'] as const) {
      await expect(runTool(tool, { path: 'notes.txt', content: 'x', mode })).rejects.toThrow(
        'refused: "notes.txt" is a symbolic link that leads outside the directory',
      );
    }
    // A dangling link to a file that does not exist yet outside must not create it either.
    await symlink(path.join(outside, 'new.txt'), path.join(directory, 'dangling.txt'));
    await expect(runTool(tool, { path: 'dangling.txt', content: 'x' })).rejects.toThrow('refused');
    expect(await readdir(outside)).toEqual(['secret.txt']);
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('do not touch');
  });

  it('refuses to append through a hard link, leaving the linked file untouched', async () => {
    const secret = path.join(outside, 'secret.txt');
    await link(secret, path.join(directory, 'linked.txt'));
    const tool = createFileWriteTool({ directory });
    await expect(
      runTool(tool, { path: 'linked.txt', content: 'appended', mode: 'append' }),
    ).rejects.toThrow(
      'refused: "linked.txt" has another hard link (2 names in all), which may lie outside the directory; appending through it is not allowed',
    );
    expect(await readFile(secret, 'utf8')).toBe('do not touch');
    expect((await stat(secret)).nlink).toBe(2);
  });

  it('overwrites a hard link by replacing it, leaving the linked file untouched', async () => {
    const secret = path.join(outside, 'secret.txt');
    await link(secret, path.join(directory, 'linked.txt'));
    const tool = createFileWriteTool({ directory });
    await runTool(tool, { path: 'linked.txt', content: 'replaced' });
    expect(await readFile(path.join(directory, 'linked.txt'), 'utf8')).toBe('replaced');
    expect(await readFile(secret, 'utf8')).toBe('do not touch');
    expect((await stat(secret)).nlink).toBe(1);
  });

  it('refuses to append to something that is not a regular file, without blocking', async () => {
    execFileSync('mkfifo', [path.join(directory, 'pipe')]);
    const tool = createFileWriteTool({ directory });
    await expect(runTool(tool, { path: 'pipe', content: 'x', mode: 'append' })).rejects.toThrow(
      'refused: "pipe" is not a regular file',
    );
  });

  it('refuses to append when a checked parent is swapped for a symlink before the open', async () => {
    await mkdir(path.join(directory, 'logs'));
    await writeFile(path.join(directory, 'logs', 'secret.txt'), 'inside');
    const target = await resolveInsideDirectory(directory, 'logs/secret.txt');
    // Between the check and the open, another process replaces the parent with a link out.
    await rename(path.join(directory, 'logs'), path.join(directory, 'logs-old'));
    await symlink(outside, path.join(directory, 'logs'));
    await expect(openForAppend(target)).rejects.toThrow(
      'refused: "logs/secret.txt" moved outside the directory while it was being opened',
    );
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('do not touch');
  });

  it('refuses to append when the file itself is swapped for a symlink before the open', async () => {
    await writeFile(path.join(directory, 'notes.txt'), 'inside');
    const target = await resolveInsideDirectory(directory, 'notes.txt');
    await rm(path.join(directory, 'notes.txt'));
    await symlink(path.join(outside, 'secret.txt'), path.join(directory, 'notes.txt'));
    await expect(openForAppend(target)).rejects.toThrow(
      'refused: "notes.txt" became a symbolic link while it was being opened',
    );
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('do not touch');
  });

  it('follows a symlink that stays inside the directory', async () => {
    await mkdir(path.join(directory, 'real'));
    await symlink(path.join(directory, 'real'), path.join(directory, 'alias'));
    const tool = createFileWriteTool({ directory });
    await runTool(tool, { path: 'alias/file.txt', content: 'inside' });
    expect(await readFile(path.join(directory, 'real/file.txt'), 'utf8')).toBe('inside');
  });

  it('refuses content over the size limit, and says so', async () => {
    const tool = createFileWriteTool({ directory, max_bytes: 10 });
    await expect(runTool(tool, { path: 'big.txt', content: 'x'.repeat(11) })).rejects.toThrow(
      'content is 11 bytes; the limit is 10 bytes',
    );
  });

  it('is not idempotent as a whole (append repeats)', () => {
    const tool = createFileWriteTool({ directory });
    expect(tool.idempotent).toBe(false);
    expect(tool.description).toMatch(/not idempotent/);
  });
});
