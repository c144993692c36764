import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceCheckTool, type ServiceCheckResult } from '../../src/tools/built-in/index.js';
import {
  closedPort,
  runTool,
  startLocalServer,
  toolContext,
  type LocalServer,
} from './tool-harness.js';

const allowed = toolContext({ allow_hosts: ['127.0.0.1'] });
let server: LocalServer;
let tcp: net.Server;
let tcpPort: number;

beforeAll(async () => {
  server = await startLocalServer((request, response) => {
    if (request.path === '/health') response.end('ok');
    else if (request.path === '/moved') response.writeHead(301, { location: '/health' }).end();
    else if (request.path === '/login') response.writeHead(401).end();
    else response.writeHead(503).end('down for maintenance');
  });
  tcp = net.createServer((socket) => socket.end());
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  tcpPort = (tcp.address() as AddressInfo).port;
});
afterAll(async () => {
  await server.close();
  await new Promise((resolve) => tcp.close(resolve));
});

describe('service_check', () => {
  it('reports HTTP targets up or down with status and latency', async () => {
    const results = await runTool(
      serviceCheckTool,
      {
        targets: [
          { url: `${server.origin}/health` },
          { url: `${server.origin}/broken` },
          { url: `${server.origin}/moved` },
          { url: `${server.origin}/login`, expect_status: [401] },
        ],
      },
      allowed,
    );
    expect(results).toMatchObject([
      { target: `${server.origin}/health`, up: true, status_code: 200 },
      { up: false, status_code: 503, error: 'unexpected HTTP status 503' },
      { up: true, status_code: 301 },
      { up: true, status_code: 401 },
    ]);
    for (const result of results) expect(result.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('reports a TCP port up when it accepts, and a closed port down', async () => {
    const port = await closedPort();
    const results: ServiceCheckResult[] = await runTool(
      serviceCheckTool,
      {
        targets: [
          { host: '127.0.0.1', port: tcpPort },
          { host: '127.0.0.1', port },
        ],
      },
      allowed,
    );
    expect(results[0]).toMatchObject({ target: `127.0.0.1:${tcpPort}`, up: true });
    expect(results[0]?.latency_ms).toBeGreaterThanOrEqual(0);
    expect(results[1]).toMatchObject({ target: `127.0.0.1:${port}`, up: false });
    expect(results[1]?.error).toMatch(/ECONNREFUSED/);
  });

  it('reports an HTTP server that does not answer in time as down', async () => {
    const port = await closedPort();
    const [result] = await runTool(
      serviceCheckTool,
      { targets: [{ url: `http://127.0.0.1:${port}/` }] },
      allowed,
    );
    expect(result).toMatchObject({ up: false });
    expect(result?.error).toMatch(/ECONNREFUSED/);
  });

  it('refuses private and metadata targets per target, without connecting', async () => {
    const results = await runTool(
      serviceCheckTool,
      {
        targets: [
          { url: 'http://169.254.169.254/' },
          { host: '10.0.0.1', port: 22 },
          { host: '::1', port: tcpPort },
          { host: '127.0.0.1', port: tcpPort },
        ],
      },
      toolContext(),
    );
    expect(results.map((result) => [result.target, result.up, result.error])).toEqual([
      [
        'http://169.254.169.254/',
        false,
        expect.stringContaining('refused: 169.254.169.254 is a cloud metadata address'),
      ],
      ['10.0.0.1:22', false, expect.stringContaining('refused: 10.0.0.1 is a private address')],
      [`[::1]:${tcpPort}`, false, expect.stringContaining('refused: ::1 is a loopback address')],
      [
        `127.0.0.1:${tcpPort}`,
        false,
        expect.stringContaining('refused: 127.0.0.1 is a loopback address'),
      ],
    ]);
  });

  it('never reaches cloud metadata through a wildcard or a range in allow_hosts', async () => {
    const results = await runTool(
      serviceCheckTool,
      {
        targets: [
          { url: 'http://metadata.google.internal/' },
          { host: 'metadata.google.internal', port: 80 },
          { host: '169.254.169.254', port: 80 },
          { host: '2001:0:4136:e378:8000:63bf:5601:5601', port: 80 },
        ],
      },
      toolContext({ allow_hosts: ['*.internal', '169.0.0.0/8', '2001::/32'] }),
    );
    expect(results.map((result) => [result.up, result.error])).toEqual([
      [
        false,
        expect.stringContaining('refused: metadata.google.internal is a cloud metadata host name'),
      ],
      [
        false,
        expect.stringContaining('refused: metadata.google.internal is a cloud metadata host name'),
      ],
      [false, expect.stringContaining('refused: 169.254.169.254 is a cloud metadata address')],
      [
        false,
        expect.stringContaining(
          'refused: 2001:0:4136:e378:8000:63bf:5601:5601 is a cloud metadata address, as it carries 169.254.169.254',
        ),
      ],
    ]);
  });

  it('is marked idempotent: it only reads', () => {
    expect(serviceCheckTool.idempotent).toBe(true);
  });
});
