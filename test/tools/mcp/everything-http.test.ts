import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpConnection } from '../../../src/tools/mcp/index.js';
import { waitFor } from '../../helpers/wait-for.js';
import { callTool } from './call-tool.js';
import { serverConfig, startEverythingHttp, type HttpServerProcess } from './mcp-servers.js';

let server: HttpServerProcess;
let sseServer: HttpServerProcess;

beforeAll(async () => {
  [server, sseServer] = await Promise.all([
    startEverythingHttp('streamableHttp'),
    startEverythingHttp('sse'),
  ]);
});

afterAll(async () => {
  await Promise.all([server.kill(), sseServer.kill()]);
});

describe('McpConnection to the everything server over streamable HTTP', () => {
  let url: string;

  beforeAll(() => {
    url = `http://127.0.0.1:${server.port}/mcp`;
  });

  it('lists and calls tools, and ends its HTTP session on close()', async () => {
    const connection = new McpConnection(
      serverConfig({
        name: 'remote',
        transport_type: 'streamable_http',
        url,
        headers: { Authorization: 'Bearer test-token-123' },
      }),
    );
    const tools = await connection.listTools();
    expect(tools.get('echo')?.idempotent).toBe(true);
    expect(await callTool(tools.get('echo'), { message: 'over http' })).toBe('Echo: over http');
    await connection.close();
    await waitFor(() => server.output().includes('Received session termination request'), {
      what: 'the server to see the session end',
    });
  });

  it('starts a new session when the server forgot the old one', async () => {
    const connection = new McpConnection(
      serverConfig({ name: 'forgotten', transport_type: 'streamable_http', url }),
    );
    try {
      const echo = (await connection.listTools()).get('echo');
      // The server logs each session it opens; end ours behind the connection's back, as a
      // server restart or a session expiry would.
      const sessions = [...server.output().matchAll(/Session initialized with ID: (\S+)/g)];
      const sessionId = sessions.at(-1)?.[1] ?? '';
      const ended = await fetch(url, {
        method: 'DELETE',
        headers: { 'mcp-session-id': sessionId },
      });
      expect(ended.status).toBe(200);

      // The request is turned away unrun, so it is sent again on a new session, unnoticed.
      expect(await callTool(echo, { message: 'again' })).toBe('Echo: again');
    } finally {
      await connection.close();
    }
  });

  it('reconnects after the server comes back, and backs off while it is down', async () => {
    let now = 1_000_000;
    const connection = new McpConnection(
      serverConfig({ name: 'flaky', transport_type: 'streamable_http', url, timeout: 2 }),
      { now: () => now },
    );
    try {
      const echo = (await connection.listTools()).get('echo');
      await server.kill();
      await expect(callTool(echo, { message: 'hello?' })).rejects.toThrow(
        /MCP server "flaky" \(url http:\/\/127\.0\.0\.1:\d+\/mcp\) could not be reached/,
      );
      expect(connection.state).toBe('disconnected');
      // Within the backoff the call fails at once, saying when the next attempt comes.
      await expect(callTool(echo, { message: 'hello?' })).rejects.toThrow(
        /"flaky" is unavailable \(last error: could not be reached: fetch failed.*\); next reconnect attempt in 1\.0s/,
      );

      await server.restart();
      now += 1_000;
      expect(await callTool(echo, { message: 'recovered' })).toBe('Echo: recovered');
    } finally {
      await connection.close();
    }
  });
});

describe('McpConnection to the everything server over SSE', () => {
  it('lists and calls tools', async () => {
    const connection = new McpConnection(
      serverConfig({
        name: 'legacy',
        transport_type: 'sse',
        url: `http://127.0.0.1:${sseServer.port}/sse`,
      }),
    );
    try {
      const tools = await connection.listTools();
      expect(await callTool(tools.get('get-sum'), { a: 1, b: 1 })).toBe('The sum of 1 and 1 is 2.');
    } finally {
      await connection.close();
    }
  });
});
