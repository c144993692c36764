import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NightshiftError } from '../../../src/errors.js';
import { McpConnection } from '../../../src/tools/mcp/index.js';
import type { ToolDefinition } from '../../../src/tools/tool-definition.js';
import { waitFor } from '../../helpers/wait-for.js';
import { callTool } from './call-tool.js';
import { startInProcessServer, type InProcessServer } from './in-process-server.js';
import { serverConfig } from './mcp-servers.js';

describe('cancelling an MCP tool call', () => {
  /** What the server side saw: calls running now, and the reasons of cancelled ones. */
  const seen = { waiting: 0, cancelled: [] as string[] };
  let server: InProcessServer;
  let connection: McpConnection;
  let wait: ToolDefinition | undefined;

  beforeAll(async () => {
    server = await startInProcessServer((mcp) => {
      mcp.registerTool(
        'wait',
        {
          description: 'Waits, or stops when cancelled.',
          inputSchema: { milliseconds: z.number() },
        },
        async ({ milliseconds }, extra) => {
          seen.waiting += 1;
          const cancelled = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), milliseconds);
            extra.signal.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve(true);
            });
          });
          seen.waiting -= 1;
          if (cancelled) seen.cancelled.push(String(extra.signal.reason));
          return { content: [{ type: 'text', text: cancelled ? 'cancelled' : 'done' }] };
        },
      );
    });
    connection = new McpConnection(
      serverConfig({ name: 'in-process', transport_type: 'streamable_http', url: server.url }),
    );
    wait = (await connection.listTools()).get('wait');
  });

  afterAll(async () => {
    await connection.close();
    await server.close();
  });

  it('rejects with the abort reason at once and tells the server (notifications/cancelled)', async () => {
    // What the runtime aborts with when tool_call_timeout runs out.
    const reason = new NightshiftError('timeout', 'tool wait timed out after 30s');
    const controller = new AbortController();
    const pending = callTool(wait, { milliseconds: 30_000 }, controller.signal);
    await waitFor(() => seen.waiting === 1, { what: 'the server to start the call' });

    const abortedAt = Date.now();
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(Date.now() - abortedAt).toBeLessThan(500);
    await waitFor(() => seen.cancelled.length === 1, { what: 'the server to hear of it' });
    expect(seen.cancelled).toEqual(['NightshiftError: tool wait timed out after 30s']);
    expect(seen.waiting).toBe(0);
  });

  it('cancels as well when the signal aborts by timeout', async () => {
    await expect(
      callTool(wait, { milliseconds: 30_000 }, AbortSignal.timeout(100)),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    await waitFor(() => seen.cancelled.length === 2, { what: 'the server to hear of it' });
    expect(seen.cancelled[1]).toMatch(/^TimeoutError/);
    // The connection is still good for the next call.
    expect(await callTool(wait, { milliseconds: 1 }, new AbortController().signal)).toBe('done');
  });
});
