import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeService, scriptedAgent } from './service-fixtures.js';

let server: Server | undefined;
let directory: string | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  if (directory) rmSync(directory, { recursive: true, force: true });
  server = undefined;
  directory = undefined;
});

async function localServer(): Promise<string> {
  server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ healthy: true }));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}/status`;
}

function fetcher(agentId: string, url: string, allowHosts: string[]) {
  return scriptedAgent(agentId, {
    tools: ['http_fetch'],
    allow_hosts: allowHosts,
    model_config: {
      provider: 'scripted',
      script: [{ tool: 'http_fetch', args: { url } }, { answer: 'fetched' }],
    },
  });
}

describe('built-in tools through the service', () => {
  it('http_fetch refuses a loopback address unless the agent’s allow_hosts lists it', async () => {
    const url = await localServer();
    const service = makeService();
    await service.startManager();
    await service.create(fetcher('refused', url, []));
    await service.create(fetcher('allowed', url, ['127.0.0.1']));
    const refused = await service.runNow('refused', { wait: true });
    const refusedErrors = (await service.readEvents({ agent_id: 'refused' })).filter(
      (event) => event.type === 'tool_call_error',
    );
    expect(JSON.stringify(refusedErrors)).toContain('loopback');
    expect(refused.status).toBe('completed');
    await service.runNow('allowed', { wait: true });
    const results = (await service.readEvents({ agent_id: 'allowed' })).filter(
      (event) => event.type === 'tool_call_result',
    );
    expect(JSON.stringify(results)).toContain('healthy');
  });

  it('file_write is registered from toolSettings and writes only inside its directory', async () => {
    directory = mkdtempSync(join(tmpdir(), 'nightshift-files-'));
    const service = makeService({ toolSettings: { files: { directory } } });
    await service.startManager();
    expect(service.toolNames()).toContain('file_write');
    await service.create(
      scriptedAgent('writer', {
        tools: ['file_write'],
        model_config: {
          provider: 'scripted',
          script: [
            {
              tool: 'file_write',
              args: { path: 'reports/today.md', content: '# ok', mode: 'overwrite' },
            },
            {
              tool: 'file_write',
              args: { path: '../escape.md', content: 'no', mode: 'overwrite' },
            },
            { answer: 'written' },
          ],
        },
      }),
    );
    await service.runNow('writer', { wait: true });
    expect(readFileSync(join(directory, 'reports/today.md'), 'utf8')).toBe('# ok');
    const errors = (await service.readEvents({ agent_id: 'writer' })).filter(
      (event) => event.type === 'tool_call_error',
    );
    expect(errors).toHaveLength(1);
    expect(makeService().toolNames()).not.toContain('file_write');
  });
});
