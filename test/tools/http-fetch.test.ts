import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFetchTool } from '../../src/tools/built-in/index.js';
import { runTool, startLocalServer, toolContext, type LocalServer } from './tool-harness.js';

const allowed = toolContext({ allow_hosts: ['127.0.0.1'] });

const PAGE = `<!doctype html><html><head><title>Status &amp; news</title>
<style>body { color: red }</style><script>alert('x')</script></head>
<body><h1>All systems go</h1><p>Read the <a href="https://example.test/post">latest post</a>.</p>
<img src="x.png" alt="chart"></body></html>`;

let server: LocalServer;
beforeAll(async () => {
  server = await startLocalServer((request, response) => {
    switch (request.path) {
      case '/page':
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
        return;
      case '/data':
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ok: true, items: [1, 2, 3] }));
        return;
      case '/echo':
        response.writeHead(201, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            method: request.method,
            type: request.headers['content-type'],
            body: JSON.parse(request.body) as unknown,
          }),
        );
        return;
      case '/big':
        response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '10000' });
        response.end('a'.repeat(10_000));
        return;
      case '/big-gzip':
        response.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        response.end(gzipSync('z'.repeat(1_000_000)));
        return;
      case '/long-text':
        response.writeHead(200, { 'content-type': 'text/plain' }).end('b'.repeat(5_000));
        return;
      case '/to-localhost':
        response.writeHead(302, { location: `http://localhost:${server.port}/page` }).end();
        return;
      case '/to-ipv6-loopback':
        response.writeHead(307, { location: `http://[::1]:${server.port}/page` }).end();
        return;
      case '/to-metadata':
        response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        return;
      case '/missing':
        response.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing');
        return;
      default:
        response.writeHead(500).end();
    }
  });
});
afterAll(() => server.close());

describe('http_fetch', () => {
  it('reduces HTML to readable text, without scripts, styles or images', async () => {
    const result = await runTool(httpFetchTool, { url: `${server.origin}/page` }, allowed);
    expect(result).toMatchObject({ status: 200, ok: true, format: 'html', title: 'Status & news' });
    const body = (result as { body: string }).body;
    expect(body).toContain('ALL SYSTEMS GO');
    expect(body).toContain('latest post [https://example.test/post]');
    expect(body).not.toMatch(/<|alert|color: red|x\.png/);
  });

  it('keeps JSON as parsed JSON', async () => {
    const result = await runTool(httpFetchTool, { url: `${server.origin}/data` }, allowed);
    expect(result).toMatchObject({
      format: 'json',
      body: { ok: true, items: [1, 2, 3] },
      content_type: 'application/json',
    });
  });

  it('POSTs a JSON body', async () => {
    const result = await runTool(
      httpFetchTool,
      { url: `${server.origin}/echo`, method: 'POST', json: { hello: 'world' } },
      allowed,
    );
    expect(result).toMatchObject({
      status: 201,
      body: { method: 'POST', type: 'application/json', body: { hello: 'world' } },
    });
  });

  it('stops reading at max_bytes and says how much was cut', async () => {
    const result = await runTool(
      httpFetchTool,
      { url: `${server.origin}/big`, max_bytes: 1_000 },
      allowed,
    );
    expect(result).toMatchObject({ truncated: true, bytes_read: 1_000 });
    expect((result as { body: string }).body).toBe(
      `${'a'.repeat(1_000)}…[truncated: body cut at 1000 bytes; 9000 more bytes were not read]`,
    );
  });

  it('caps decompressed bytes, so a small gzip body cannot inflate without end', async () => {
    const result = await runTool(
      httpFetchTool,
      { url: `${server.origin}/big-gzip`, max_bytes: 2_000, max_chars: 5_000 },
      allowed,
    );
    expect(result).toMatchObject({ truncated: true, bytes_read: 2_000 });
    expect((result as { body: string }).body).toMatch(
      /^z{2000}…\[truncated: body cut at 2000 bytes; the rest was not read\]$/,
    );
  });

  it('cuts text at max_chars with a marker', async () => {
    const result = await runTool(
      httpFetchTool,
      { url: `${server.origin}/long-text`, max_chars: 1_000 },
      allowed,
    );
    expect((result as { body: string }).body).toBe(
      `${'b'.repeat(1_000)}…[truncated: 4000 more characters]`,
    );
  });

  it('returns an error status as a result, not a failure', async () => {
    const result = await runTool(httpFetchTool, { url: `${server.origin}/missing` }, allowed);
    expect(result).toMatchObject({ status: 404, ok: false, body: 'no such thing' });
  });

  it.each([
    [
      'http://169.254.169.254/latest/meta-data/',
      'refused: 169.254.169.254 is a cloud metadata address',
    ],
    [
      'http://metadata.google.internal/computeMetadata/v1/',
      'refused: metadata.google.internal is a cloud metadata host name',
    ],
    ['http://10.0.0.1/', 'refused: 10.0.0.1 is a private address'],
    ['http://[::1]/', 'refused: ::1 is a loopback address'],
    ['http://[::ffff:127.0.0.1]/', 'refused: ::ffff:7f00:1 is a loopback address'],
    ['http://2130706433/', 'refused: 127.0.0.1 is a loopback address'],
  ])('refuses %s', async (url, message) => {
    await expect(runTool(httpFetchTool, { url }, toolContext())).rejects.toThrow(message);
  });

  it('refuses 127.0.0.1 unless allow_hosts lists it, before connecting', async () => {
    const before = server.received.length;
    await expect(
      runTool(httpFetchTool, { url: `${server.origin}/page` }, toolContext()),
    ).rejects.toThrow(
      'refused: 127.0.0.1 is a loopback address (add it to allow_hosts to permit it)',
    );
    expect(server.received).toHaveLength(before);
  });

  it.each([
    ['/to-localhost', 'refused: localhost is a loopback host name'],
    ['/to-ipv6-loopback', 'refused: ::1 is a loopback address'],
    ['/to-metadata', 'refused: 169.254.169.254 is a cloud metadata address'],
  ])(
    'refuses a redirect from an allowed server (%s) to a host that is not allowed',
    async (path, message) => {
      await expect(
        runTool(httpFetchTool, { url: `${server.origin}${path}` }, allowed),
      ).rejects.toThrow(message);
      expect(server.received.at(-1)?.path).toBe(path);
    },
  );

  it.each([
    [['*.internal'], 'http://metadata.google.internal/computeMetadata/v1/'],
    [['*.google.internal'], 'http://metadata.google.internal/computeMetadata/v1/'],
    [['169.0.0.0/8'], 'http://169.254.169.254/latest/meta-data/'],
    [['::ffff:0:0/96'], 'http://[::ffff:169.254.169.254]/latest/meta-data/'],
    [['2001::/32'], 'http://[2001:0:4136:e378:8000:63bf:5601:5601]/latest/meta-data/'],
  ])('never reaches cloud metadata, whatever allow_hosts says (%j)', async (allowHosts, url) => {
    await expect(
      runTool(httpFetchTool, { url }, toolContext({ allow_hosts: allowHosts })),
    ).rejects.toThrow(/^refused: .*cloud metadata .*\(allow_hosts can never permit it\)$/);
  });

  it('fails on an allow_hosts entry that is not one, naming it', async () => {
    await expect(
      runTool(
        httpFetchTool,
        { url: `${server.origin}/page` },
        toolContext({ allow_hosts: ['127.0.0.1', '10.0.0.0/99'] }),
      ),
    ).rejects.toThrow('allow_hosts: prefix length must be 0–32 (got "10.0.0.0/99")');
  });

  it('rejects headers the tool owns and a JSON body on GET', async () => {
    await expect(
      runTool(httpFetchTool, { url: `${server.origin}/data`, headers: { Host: 'evil' } }, allowed),
    ).rejects.toThrow('header "Host" is set by the tool itself');
    await expect(
      runTool(httpFetchTool, { url: `${server.origin}/data`, json: { a: 1 } }, allowed),
    ).rejects.toThrow('use it with method POST');
  });

  it('is not idempotent, because POST may change things', () => {
    expect(httpFetchTool.idempotent).toBe(false);
    expect(httpFetchTool.description).toMatch(/not idempotent/);
  });
});
