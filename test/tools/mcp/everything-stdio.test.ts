import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NightshiftError } from '../../../src/errors.js';
import { McpConnection } from '../../../src/tools/mcp/index.js';
import type { ToolDefinition } from '../../../src/tools/tool-definition.js';
import { waitFor } from '../../helpers/wait-for.js';
import { callTool } from './call-tool.js';
import { everythingStdio, isAlive } from './mcp-servers.js';

describe('McpConnection to the everything server over stdio', () => {
  const secretName = `NIGHTSHIFT_TEST_SECRET_${randomUUID().slice(0, 8)}`;
  let connection: McpConnection;
  let tools: Map<string, ToolDefinition>;

  beforeAll(async () => {
    // A secret in this process's environment must not reach the server.
    process.env[secretName] = 'do-not-leak';
    connection = new McpConnection(everythingStdio('everything', { env: { GREETING: 'hello' } }));
    tools = await connection.listTools();
  });

  afterAll(async () => {
    delete process.env[secretName];
    await connection.close();
  });

  it('lists the server tools with their descriptions and JSON Schemas', () => {
    expect([...tools.keys()]).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-env']));
    const echo = tools.get('echo');
    expect(echo?.description).toBe('Echoes back the input string');
    expect(echo?.inputSchema).toMatchObject({
      type: 'object',
      properties: { message: { type: 'string' } },
      required: ['message'],
    });
    // A tool the server runs only as a task cannot be called plainly, so it is not offered.
    expect(tools.has('simulate-research-query')).toBe(false);
  });

  it('marks read-only or idempotent tools idempotent, and no others', () => {
    expect(tools.get('echo')?.idempotent).toBe(true);
    expect(tools.get('get-sum')?.idempotent).toBe(true);
    expect(tools.get('toggle-simulated-logging')?.idempotent).toBe(false);
  });

  it('calls tools: text joined, structured content preferred', async () => {
    expect(await callTool(tools.get('echo'), { message: 'hi' })).toBe('Echo: hi');
    expect(await callTool(tools.get('get-sum'), { a: 2, b: 3 })).toBe('The sum of 2 and 3 is 5.');
    expect(await callTool(tools.get('get-structured-content'), { location: 'Chicago' })).toEqual({
      temperature: 36,
      conditions: 'Light rain / drizzle',
      humidity: 82,
    });
  });

  it('names non-text content rather than inlining it', async () => {
    expect(await callTool(tools.get('get-tiny-image'), {})).toBe(
      "Here's the image you requested:\n[image: image/png]\nThe image above is the MCP logo.",
    );
  });

  it('throws the server text when the result is an error', async () => {
    const failure = callTool(tools.get('echo'), {});
    await expect(failure).rejects.toSatisfy(
      (error) => NightshiftError.isInstance(error) && error.code === 'tool_error',
    );
    await expect(failure).rejects.toThrow(/Input validation error.*message/);
  });

  it('gives the server PATH, HOME and its configured env, not the rest of ours', async () => {
    const environment = JSON.parse(String(await callTool(tools.get('get-env'), {}))) as Record<
      string,
      string
    >;
    expect(environment.GREETING).toBe('hello');
    expect(environment.PATH).toBe(process.env.PATH);
    expect(environment[secretName]).toBeUndefined();
  });

  it('rejects promptly when the abort signal fires, and stays usable', async () => {
    const started = Date.now();
    const reason = new Error('tool_call_timeout');
    const controller = new AbortController();
    // Stands in for the runtime's tool_call_timeout timer.
    setTimeout(() => controller.abort(reason), 100);
    await expect(
      callTool(
        tools.get('trigger-long-running-operation'),
        { duration: 10, steps: 10 },
        controller.signal,
      ),
    ).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await callTool(tools.get('echo'), { message: 'still here' })).toBe('Echo: still here');
  });

  // The last two tests end the shared server, so they run last, in this order.
  it('fails a call in flight when the server dies, and reconnects on the next call', async () => {
    const first = connection.processId as number;
    const pending = callTool(tools.get('trigger-long-running-operation'), {
      duration: 10,
      steps: 10,
    });
    process.kill(first, 'SIGKILL');
    await expect(pending).rejects.toThrow(
      /MCP server "everything" tool "trigger-long-running-operation" failed: .*Connection closed/,
    );
    await waitFor(() => connection.state === 'disconnected', { what: 'the connection to notice' });

    expect(await callTool(tools.get('echo'), { message: 'back' })).toBe('Echo: back');
    expect(connection.state).toBe('connected');
    expect(connection.processId).not.toBe(first);
  });

  it('close() ends the server process and refuses further calls', async () => {
    const processId = connection.processId as number;
    expect(isAlive(processId)).toBe(true);
    await connection.close();
    expect(connection.state).toBe('closed');
    await waitFor(() => !isAlive(processId), { what: 'the server process to end' });
    await expect(callTool(tools.get('echo'), { message: 'anyone?' })).rejects.toThrow(
      /"everything" was closed/,
    );
  });
});
