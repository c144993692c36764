import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpConnection } from '../../../src/tools/mcp/index.js';
import type { ToolDefinition } from '../../../src/tools/tool-definition.js';
import { callTool } from './call-tool.js';
import { FILESYSTEM_SERVER, serverConfig } from './mcp-servers.js';

describe('McpConnection to the filesystem server over stdio', () => {
  // The server resolves symlinks (macOS /tmp), so the test speaks in real paths too.
  const directory = realpathSync(mkdtempSync(join(tmpdir(), 'nightshift-mcp-')));
  let connection: McpConnection;
  let tools: Map<string, ToolDefinition>;

  beforeAll(async () => {
    writeFileSync(join(directory, 'notes.txt'), 'first line\nsecond line\n');
    connection = new McpConnection(
      serverConfig({
        name: 'files',
        command: FILESYSTEM_SERVER,
        args: [directory],
        tool_prefix: 'fs_',
      }),
    );
    tools = await connection.listTools();
  });

  afterAll(async () => {
    await connection.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('names the tools tool_prefix + MCP name', () => {
    expect([...tools.keys()]).toEqual(
      expect.arrayContaining(['fs_read_text_file', 'fs_list_directory', 'fs_write_file']),
    );
    expect(tools.has('read_text_file')).toBe(false);
  });

  it('takes idempotency from the annotations', () => {
    expect(tools.get('fs_read_text_file')?.idempotent).toBe(true);
    // Writes but may be repeated: readOnlyHint false, idempotentHint true.
    expect(tools.get('fs_write_file')?.idempotent).toBe(true);
    expect(tools.get('fs_edit_file')?.idempotent).toBe(false);
    expect(tools.get('fs_move_file')?.idempotent).toBe(false);
  });

  it('reads and lists inside its directory', async () => {
    expect(
      await callTool(tools.get('fs_read_text_file'), { path: join(directory, 'notes.txt') }),
    ).toEqual({ content: 'first line\nsecond line\n' });
    expect(await callTool(tools.get('fs_list_directory'), { path: directory })).toEqual({
      content: '[FILE] notes.txt',
    });
  });

  it('turns a read outside its directory into a thrown error', async () => {
    await expect(callTool(tools.get('fs_read_text_file'), { path: '/etc/passwd' })).rejects.toThrow(
      /Access denied - path outside allowed directories/,
    );
  });
});
