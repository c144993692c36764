import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMcpServer, McpToolManager } from '../../../src/tools/mcp/index.js';
import { waitFor } from '../../helpers/wait-for.js';
import { callTool } from './call-tool.js';
import {
  FILESYSTEM_SERVER,
  rejection,
  serverConfig,
  startEverythingHttp,
  type HttpServerProcess,
} from './mcp-servers.js';

describe('McpToolManager', () => {
  const directory = realpathSync(mkdtempSync(join(tmpdir(), 'nightshift-mcp-')));
  const files = serverConfig({ name: 'files', command: FILESYSTEM_SERVER, args: [directory] });
  // One HTTP server stands in for many: each config pointing at it is a separate session.
  let http: HttpServerProcess;
  const remote = (name: string, tool_prefix?: string) =>
    serverConfig({
      name,
      transport_type: 'streamable_http',
      url: `http://127.0.0.1:${http.port}/mcp`,
      ...(tool_prefix === undefined ? {} : { tool_prefix }),
    });

  beforeAll(async () => {
    http = await startEverythingHttp('streamableHttp');
  });

  afterAll(async () => {
    await http.kill();
    rmSync(directory, { recursive: true, force: true });
  });

  it('merges the tools of several servers, connected in parallel', async () => {
    const manager = new McpToolManager([remote('everything'), files], {
      existingToolNames: ['system_stats'],
    });
    try {
      await manager.connect();
      await manager.connect(); // a no-op once connected
      const tools = manager.tools();
      expect([...tools.keys()]).toEqual(expect.arrayContaining(['echo', 'list_directory']));
      expect(await callTool(tools.get('echo'), { message: 'merged' })).toBe('Echo: merged');
    } finally {
      await manager.close();
    }
    expect(() => manager.tools()).toThrow(/not connected/);
    await expect(manager.connect()).rejects.toThrow(/closed/);
  });

  it('reports two servers offering one tool name as config_invalid, suggesting tool_prefix', async () => {
    const manager = new McpToolManager([remote('first'), remote('second')]);
    const error = await rejection(manager.connect());
    await manager.close();
    expect(error.code).toBe('config_invalid');
    expect(error.message).toMatch(
      /MCP servers "first" \(mcp_tools\[0\]\) and "second" \(mcp_tools\[1\]\) both offer a tool named "echo"/,
    );
    expect(error.message).toMatch(/set mcp_tools\[1\]\.tool_prefix \(for example "second_"\)/);
    expect(error.fields.map((field) => field.path)).toEqual(['mcp_tools[1].tool_prefix']);
  });

  it('resolves the collision with tool_prefix', async () => {
    const manager = new McpToolManager([remote('first'), remote('second', 'second_')]);
    try {
      await manager.connect();
      const tools = manager.tools();
      expect(tools.has('echo')).toBe(true);
      expect(await callTool(tools.get('second_echo'), { message: 'two' })).toBe('Echo: two');
    } finally {
      await manager.close();
    }
  });

  it('reports a clash with one of the agent’s own tools', async () => {
    const manager = new McpToolManager([remote('remote')], { existingToolNames: ['echo'] });
    const error = await rejection(manager.connect());
    await manager.close();
    expect(error.code).toBe('config_invalid');
    expect(error.message).toMatch(
      /MCP server "remote" \(mcp_tools\[0\]\) offers a tool named "echo", which the agent already has/,
    );
    expect(error.fields[0]?.path).toBe('mcp_tools[0].tool_prefix');
  });

  it('fails quickly and clearly when a server command does not exist, disconnecting the rest', async () => {
    const started = Date.now();
    const sessionsEnded = http.output().split('Received session termination request').length;
    const manager = new McpToolManager([
      remote('remote'),
      serverConfig({ name: 'ghost', command: '/nonexistent/mcp-server-ghost' }),
    ]);
    const error = await rejection(manager.connect());
    expect(Date.now() - started).toBeLessThan(3_000);
    // All or nothing: the server that did connect was let go again.
    await waitFor(
      () => http.output().split('Received session termination request').length > sessionsEnded,
      { what: 'the HTTP session of the healthy server to end' },
    );
    await manager.close();
    expect(error.code).toBe('tool_error');
    expect(error.message).toMatch(
      /MCP server "ghost" \(command "\/nonexistent\/mcp-server-ghost"\) could not start: command not found/,
    );
  });

  it('gives up on a server that never answers after its timeout', async () => {
    const started = Date.now();
    const manager = new McpToolManager([
      serverConfig({
        name: 'silent',
        command: process.execPath,
        args: ['-e', 'setInterval(() => {}, 1000)'],
        timeout: 0.3,
      }),
    ]);
    const error = await rejection(manager.connect());
    await manager.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error.code).toBe('tool_error');
    expect(error.message).toMatch(
      /MCP server "silent" \(command ".*"\) did not answer within 0.3s/,
    );
  });

  it('explains a server that exits at once with its stderr, without its secrets', async () => {
    const manager = new McpToolManager([
      serverConfig({
        name: 'broken',
        command: process.execPath,
        args: ['-e', 'console.error("bad token " + process.env.API_TOKEN); process.exit(3)'],
        env: { API_TOKEN: 'sk-very-secret' },
      }),
    ]);
    const error = await rejection(manager.connect());
    await manager.close();
    expect(error.message).toMatch(/"broken" .* closed the connection before answering/);
    expect(error.message).toMatch(/its stderr ends with: bad token \[redacted\]/);
    expect(error.message).not.toContain('sk-very-secret');
  });

  it('rejects configs that cannot work before starting anything', () => {
    expect(
      () => new McpToolManager([files, { name: 'files', transport_type: 'stdio', command: 'x' }]),
    ).toThrow(/mcp_tools\[1\]\.name: "files" is already the name of mcp_tools\[0\]/);
    expect(
      () => new McpToolManager([files, { name: 'web', transport_type: 'streamable_http' }]),
    ).toThrow(/mcp_tools\[1\]\.url is required when transport_type is streamable_http/);
  });

  it('checkMcpServer lists a server’s tools, or says why it cannot', async () => {
    const check = await checkMcpServer(remote('remote', 'everything_'));
    expect(check.name).toBe('remote');
    expect(check.server_info?.name).toBe('mcp-servers/everything');
    expect(check.tool_names).toContain('everything_echo');
    await expect(
      checkMcpServer(serverConfig({ name: 'ghost', command: '/nonexistent/ghost' })),
    ).rejects.toThrow(/"ghost".*command not found/);
  });
});
