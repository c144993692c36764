import { afterEach, describe, expect, it } from 'vitest';
import { McpConnection, McpToolManager } from '../../../src/tools/mcp/index.js';
import { callTool } from './call-tool.js';
import { startInProcessServer, type InProcessServer } from './in-process-server.js';
import { everythingStdio, rejection, serverConfig } from './mcp-servers.js';

const SECRET = 'ghp_resolved_at_connect_7c4e9a';

describe('${NAME} references in MCP env and headers, resolved at connect', () => {
  const closers: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  function connection(...parameters: ConstructorParameters<typeof McpConnection>): McpConnection {
    const created = new McpConnection(...parameters);
    closers.push(() => created.close());
    return created;
  }

  it('gives a stdio server the values its env refers to, from the env it is given', async () => {
    const told: string[] = [];
    const everything = connection(
      everythingStdio('everything', {
        env: {
          GITHUB_TOKEN: '${SECRET_X}',
          MODE: '${UNSET_MODE:-read_only}',
          PRICE: '$${NOT_A_VARIABLE}',
          GREETING: 'hello',
        },
      }),
      { env: { SECRET_X: SECRET }, onSecret: (value) => told.push(value) },
    );
    const tools = await everything.listTools();
    const environment = JSON.parse(String(await callTool(tools.get('get-env'), {}))) as Record<
      string,
      string
    >;
    expect(environment).toMatchObject({
      GITHUB_TOKEN: SECRET,
      MODE: 'read_only',
      PRICE: '${NOT_A_VARIABLE}',
      GREETING: 'hello',
    });
    // Told before any tool ran, so whatever records a tool result can hide the value in it.
    expect(told).toEqual(expect.arrayContaining([SECRET, 'read_only', 'hello']));
    expect(told).not.toContain('${SECRET_X}');
  }, 30_000);

  it('sends an HTTP server the headers its references resolve to', async () => {
    const seen: (string | undefined)[] = [];
    const server: InProcessServer = await startInProcessServer((mcp) => {
      mcp.registerTool('whoami', {}, async (extra) => {
        const authorization = extra.requestInfo?.headers.authorization;
        seen.push(typeof authorization === 'string' ? authorization : undefined);
        return { content: [{ type: 'text', text: 'ok' }] };
      });
    });
    closers.push(() => server.close());
    const remote = connection(
      serverConfig({
        name: 'tracker',
        transport_type: 'streamable_http',
        url: server.url,
        headers: { Authorization: 'Bearer ${SECRET_X}' },
      }),
      { env: { SECRET_X: SECRET } },
    );
    const tools = await remote.listTools();
    expect(await callTool(tools.get('whoami'), {})).toBe('ok');
    expect(seen).toEqual([`Bearer ${SECRET}`]);
  });

  it('refuses to connect when a variable is unset now, naming the server and the variable', async () => {
    const manager = new McpToolManager(
      [
        everythingStdio('everything'),
        everythingStdio('github', { env: { GITHUB_TOKEN: '${SECRET_X}' } }),
      ],
      { env: { OTHER: SECRET } },
    );
    closers.push(() => manager.close());
    const error = await rejection(manager.connect());
    expect(error.code).toBe('config_invalid');
    expect(error.message).toBe(
      'MCP server "github": mcp_tools[1].env.GITHUB_TOKEN: environment variable SECRET_X is not set',
    );
    expect(error.fields).toEqual([
      {
        path: 'mcp_tools[1].env.GITHUB_TOKEN',
        message: 'environment variable SECRET_X is not set',
      },
    ]);
    expect(error.details).toEqual({ server: 'github' });
  }, 30_000);

  it('hides the resolved value, not the reference, in what a failing server says', async () => {
    const broken = connection(
      serverConfig({
        name: 'broken',
        command: process.execPath,
        args: ['-e', 'console.error("bad token " + process.env.API_TOKEN); process.exit(3)'],
        env: { API_TOKEN: '${SECRET_X}' },
      }),
      { env: { SECRET_X: SECRET } },
    );
    const error = await rejection(broken.connect());
    expect(error.message).toMatch(/its stderr ends with: bad token \[redacted\]/);
    expect(error.message).not.toContain(SECRET);
  });

  it('uses a value without references as it is', async () => {
    const literal = connection(everythingStdio('everything', { env: { GITHUB_TOKEN: SECRET } }), {
      env: {},
    });
    const tools = await literal.listTools();
    const environment = JSON.parse(String(await callTool(tools.get('get-env'), {}))) as Record<
      string,
      string
    >;
    expect(environment.GITHUB_TOKEN).toBe(SECRET);
  }, 30_000);
});
