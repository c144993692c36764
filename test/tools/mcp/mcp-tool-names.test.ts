import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { McpConnection } from '../../../src/tools/mcp/index.js';
import { callTool } from './call-tool.js';
import { startInProcessServer, type InProcessServer } from './in-process-server.js';
import { serverConfig } from './mcp-servers.js';

describe('MCP tool names', () => {
  let server: InProcessServer;

  beforeAll(async () => {
    server = await startInProcessServer((mcp) => {
      // MCP allows dots in names; model APIs do not.
      mcp.registerTool('notes.read', { inputSchema: { id: z.string() } }, async ({ id }) => ({
        content: [{ type: 'text', text: `note ${id}` }],
      }));
      mcp.registerTool('ping', {}, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
    });
  });

  afterAll(async () => {
    await server.close();
  });

  it('become tool_prefix + name, with characters model APIs reject replaced', async () => {
    const connection = new McpConnection(
      serverConfig({
        name: 'notes',
        transport_type: 'streamable_http',
        url: server.url,
        tool_prefix: 'kb.',
      }),
    );
    try {
      const tools = await connection.listTools();
      expect([...tools.keys()].sort()).toEqual(['kb_notes_read', 'kb_ping']);
      // The call still uses the server's own name.
      expect(await callTool(tools.get('kb_notes_read'), { id: '7' })).toBe('note 7');
      // A tool without declared input still gets an object schema with properties.
      expect(tools.get('kb_ping')?.inputSchema).toMatchObject({ type: 'object', properties: {} });
      expect(tools.get('kb_ping')?.idempotent).toBe(false);
    } finally {
      await connection.close();
    }
  });
});
