import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifyTool } from '../../src/tools/built-in/index.js';
import { runTool, startLocalServer, toolContext, type LocalServer } from './tool-harness.js';

const allowed = toolContext({ allow_hosts: ['127.0.0.1'] });
let server: LocalServer;
beforeAll(async () => {
  server = await startLocalServer((request, response) => {
    if (request.path.startsWith('/hooks/ok')) response.writeHead(200).end('ok');
    else response.writeHead(400).end('invalid_payload');
  });
});
afterAll(() => server.close());

describe('notify', () => {
  it('posts Slack- and Discord-compatible JSON to the named webhook', async () => {
    const tool = createNotifyTool({ webhooks: { ops: `${server.origin}/hooks/ok/T000/SECRET` } });
    const result = await runTool(
      tool,
      { webhook: 'ops', title: 'Disk', text: 'Disk at 91%' },
      allowed,
    );
    expect(result).toEqual({ webhook: 'ops', delivered: true, status: 200 });
    const request = server.received.at(-1);
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe('test-run:call-1');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      text: '*Disk*\nDisk at 91%',
      content: '**Disk**\nDisk at 91%',
    });
  });

  it('cuts Discord content at 2,000 characters', async () => {
    const tool = createNotifyTool({ webhooks: { ops: `${server.origin}/hooks/ok` } });
    await runTool(tool, { webhook: 'ops', text: 'x'.repeat(3_000) }, allowed);
    const body = JSON.parse(server.received.at(-1)?.body ?? '') as {
      text: string;
      content: string;
    };
    expect(body.text).toBe('x'.repeat(3_000));
    expect(body.content).toBe(`${'x'.repeat(2_000)}…[truncated: 1000 more characters]`);
  });

  it('fails with the webhook’s answer, naming the webhook and not its secret URL', async () => {
    const tool = createNotifyTool({ webhooks: { ops: `${server.origin}/hooks/bad/SECRET-TOKEN` } });
    const failure = runTool(tool, { webhook: 'ops', text: 'hello' }, allowed);
    await expect(failure).rejects.toThrow('webhook "ops" answered HTTP 400: invalid_payload');
    await expect(failure).rejects.not.toThrow('SECRET-TOKEN');
  });

  it('offers only configured webhooks to the model', async () => {
    const tool = createNotifyTool({ webhooks: { ops: `${server.origin}/hooks/ok` } });
    await expect(runTool(tool, { webhook: 'elsewhere', text: 'x' }, allowed)).rejects.toThrow();
  });

  it('refuses a webhook on a loopback address unless allowed, and accepts the factory’s allow_hosts', async () => {
    const url = `${server.origin}/hooks/ok`;
    const strict = createNotifyTool({ webhooks: { ops: url } });
    await expect(runTool(strict, { webhook: 'ops', text: 'x' }, toolContext())).rejects.toThrow(
      'webhook "ops": refused: 127.0.0.1 is a loopback address',
    );
    const trusted = createNotifyTool({ webhooks: { ops: url }, allow_hosts: ['127.0.0.1'] });
    await expect(
      runTool(trusted, { webhook: 'ops', text: 'x' }, toolContext()),
    ).resolves.toMatchObject({
      delivered: true,
    });
  });

  it('rejects a configuration without webhooks or with a bad URL, hiding the URL', () => {
    expect(() => createNotifyTool({ webhooks: {} })).toThrow('at least one webhook');
    expect(() => createNotifyTool({ webhooks: { ops: 'ftp://secret@host/x' } })).toThrow(
      'webhook "ops" is not an http(s) URL',
    );
    expect(createNotifyTool({ webhooks: { ops: `${server.origin}/x` } }).idempotent).toBe(false);
  });
});
