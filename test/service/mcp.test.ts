import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeService, scriptedAgent } from './service-fixtures.js';

const everything = resolve(import.meta.dirname, '../../node_modules/.bin/mcp-server-everything');

describe('MCP tools through the service', () => {
  it('connects the agent’s MCP server, lets the model call its tools, run after run', async () => {
    const service = makeService();
    await service.startManager();
    await service.create(
      scriptedAgent('mcp_user', {
        mcp_tools: [
          {
            name: 'everything',
            transport_type: 'stdio',
            command: everything,
            args: ['stdio'],
            timeout: 20,
          },
        ],
        model_config: {
          provider: 'scripted',
          script: [
            { tool: 'echo', args: { message: 'hello over MCP' } },
            { answer: 'Server said: {{echo}}' },
          ],
        },
      }),
    );
    const first = await service.runNow('mcp_user', { wait: true });
    expect(first).toMatchObject({ status: 'completed' });
    expect(first.output).toContain('hello over MCP');
    const second = await service.runNow('mcp_user', { wait: true });
    expect(second.status).toBe('completed');
    const steps = await service.getRunSteps(second.run_id);
    expect(steps.find((step) => step.kind === 'tool_call')).toMatchObject({
      tool_name: 'echo',
      outcome: 'success',
    });
  }, 30_000);

  it('fails the run with a clear error when the server cannot start, instead of hanging', async () => {
    const service = makeService();
    await service.startManager();
    await service.create(
      scriptedAgent('mcp_broken', {
        mcp_tools: [
          {
            name: 'ghost',
            transport_type: 'stdio',
            command: '/nonexistent/mcp-server',
            timeout: 5,
          },
        ],
      }),
    );
    const run = await service.runNow('mcp_broken', { wait: true });
    expect(run.status).toBe('failed');
    expect(run.error?.message).toMatch(/ghost/);
  }, 30_000);

  it('refuses MCP server entries without what their transport needs', async () => {
    const service = makeService();
    await expect(
      service.create(
        scriptedAgent('mcp_bad', {
          mcp_tools: [
            { name: 'a', transport_type: 'stdio' },
            { name: 'a', transport_type: 'streamable_http' },
          ],
        }),
      ),
    ).rejects.toMatchObject({
      code: 'config_invalid',
      fields: expect.arrayContaining([
        { path: 'mcp_tools[0].command', message: 'required for the stdio transport' },
        { path: 'mcp_tools[1].url', message: 'required for the streamable_http transport' },
        { path: 'mcp_tools[1].name', message: 'duplicate server name "a"' },
      ]),
    });
  });
});
