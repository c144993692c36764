import { afterEach, describe, expect, it } from 'vitest';
import { safeFetch, type ResolveHost } from '../../src/tools/safety/index.js';
import { startLocalServer, type LocalServer } from './tool-harness.js';

/** DNS played from a script: each lookup of a name takes the next answer (the last one repeats). */
function scriptedDns(script: Record<string, string[][]>): ResolveHost & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    const answers = script[host] ?? [[]];
    const seen = calls.filter((call) => call === host).length;
    const answer = answers[Math.min(seen, answers.length) - 1] ?? [];
    return answer.map((address) => ({
      address,
      family: address.includes(':') ? (6 as const) : (4 as const),
    }));
  };
  return Object.assign(resolve, { calls });
}

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('safeFetch', () => {
  it('connects to the address it checked, without asking DNS again (pinning)', async () => {
    server = await startLocalServer((_request, response) => response.end('pinned'));
    // The system resolver does not know this name: only a pinned connection can reach the server.
    const dns = scriptedDns({ 'pinned.example.test': [['127.0.0.1']] });
    const response = await safeFetch(`http://pinned.example.test:${server.port}/hello`, {
      timeoutMs: 5_000,
      maxBytes: 1_000,
      allowHosts: ['127.0.0.1'],
      resolve: dns,
    });
    expect(response.body.toString()).toBe('pinned');
    expect(dns.calls).toEqual(['pinned.example.test']);
    expect(server.received[0]?.headers.host).toBe(`pinned.example.test:${server.port}`);
  });

  it('checks every redirect hop again: a name that rebinds to a private address is refused', async () => {
    server = await startLocalServer((request, response) => {
      if (request.path === '/start') {
        response.writeHead(302, { location: '/next' }).end();
      } else response.end('should not be reached');
    });
    const dns = scriptedDns({ 'rebind.example.test': [['127.0.0.1'], ['10.0.0.1']] });
    await expect(
      safeFetch(`http://rebind.example.test:${server.port}/start`, {
        timeoutMs: 5_000,
        maxBytes: 1_000,
        allowHosts: ['127.0.0.1'],
        resolve: dns,
      }),
    ).rejects.toThrow('refused: rebind.example.test resolves to 10.0.0.1, a private address');
    expect(server.received.map((request) => request.path)).toEqual(['/start']);
  });

  it('refuses a redirect from an allowed name to an address that is not allowed', async () => {
    server = await startLocalServer((request, response) => {
      if (request.path === '/start') {
        response.writeHead(301, { location: `http://127.0.0.1:${server?.port}/secret` }).end();
      } else response.end('secret');
    });
    const dns = scriptedDns({ 'app.example.test': [['127.0.0.1']] });
    await expect(
      safeFetch(`http://app.example.test:${server.port}/start`, {
        timeoutMs: 5_000,
        maxBytes: 1_000,
        allowHosts: ['app.example.test'],
        resolve: dns,
      }),
    ).rejects.toThrow('refused: 127.0.0.1 is a loopback address');
    expect(server.received.map((request) => request.path)).toEqual(['/start']);
  });

  it('does not let a wildcard reach a metadata host name, even where it would resolve', async () => {
    server = await startLocalServer((_request, response) => response.end('credentials'));
    // Play a DNS that sends the metadata name to the local server: only the name check can stop it.
    const dns = scriptedDns({ 'metadata.google.internal': [['127.0.0.1']] });
    await expect(
      safeFetch(`http://metadata.google.internal:${server.port}/computeMetadata/v1/`, {
        timeoutMs: 5_000,
        maxBytes: 1_000,
        allowHosts: ['*.internal', '127.0.0.1'],
        resolve: dns,
      }),
    ).rejects.toThrow(
      'refused: metadata.google.internal is a cloud metadata host name (allow_hosts can never permit it)',
    );
    expect(dns.calls).toEqual([]);
    expect(server.received).toEqual([]);
  });

  it('refuses a listed name when a redirect hop finds it rebound to a metadata address', async () => {
    server = await startLocalServer((request, response) => {
      if (request.path === '/start') response.writeHead(302, { location: '/latest' }).end();
      else response.end('credentials');
    });
    const dns = scriptedDns({ 'app.example.test': [['127.0.0.1'], ['169.254.169.254']] });
    await expect(
      safeFetch(`http://app.example.test:${server.port}/start`, {
        timeoutMs: 1_000,
        maxBytes: 1_000,
        allowHosts: ['app.example.test'],
        resolve: dns,
      }),
    ).rejects.toThrow(
      'refused: app.example.test resolves to 169.254.169.254, a cloud metadata address (allow_hosts can never permit it)',
    );
    expect(server.received.map((request) => request.path)).toEqual(['/start']);
  });

  it('gives up after 5 redirects', async () => {
    server = await startLocalServer((request, response) => {
      const hop = Number(request.path.slice(1));
      response.writeHead(302, { location: `/${hop + 1}` }).end();
    });
    await expect(
      safeFetch(`${server.origin}/0`, {
        timeoutMs: 5_000,
        maxBytes: 100,
        allowHosts: ['127.0.0.1'],
      }),
    ).rejects.toThrow('too many redirects: gave up after 5');
    expect(server.received).toHaveLength(6);
  });

  it('turns POST into GET on 303 and drops credentials when the origin changes', async () => {
    const other = await startLocalServer((_request, response) => response.end('landed'));
    server = await startLocalServer((_request, response) => {
      response.writeHead(303, { location: `${other.origin}/landing` }).end();
    });
    try {
      const response = await safeFetch(`${server.origin}/submit`, {
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json', authorization: 'Bearer secret' },
        timeoutMs: 5_000,
        maxBytes: 100,
        allowHosts: ['127.0.0.1'],
      });
      expect(response.body.toString()).toBe('landed');
      expect(response.redirects).toEqual([`${other.origin}/landing`]);
      const landed = other.received[0];
      expect(landed?.method).toBe('GET');
      // Same host, another port: another origin, so the bearer token stays behind.
      expect(landed?.headers.authorization).toBeUndefined();
      expect(server.received[0]?.headers.authorization).toBe('Bearer secret');
    } finally {
      await other.close();
    }
  });

  it('times out a server that never answers, naming the host', async () => {
    server = await startLocalServer(() => undefined);
    await expect(
      safeFetch(`${server.origin}/hang`, {
        timeoutMs: 200,
        maxBytes: 100,
        allowHosts: ['127.0.0.1'],
      }),
    ).rejects.toThrow(`request to 127.0.0.1:${server.port} timed out after 0.2s`);
  });

  it('stops on the caller’s abort signal with its reason', async () => {
    server = await startLocalServer(() => undefined);
    const controller = new AbortController();
    const pending = safeFetch(`${server.origin}/hang`, {
      timeoutMs: 5_000,
      maxBytes: 100,
      allowHosts: ['127.0.0.1'],
      signal: controller.signal,
    });
    controller.abort(new Error('run cancelled'));
    await expect(pending).rejects.toThrow('run cancelled');
  });

  it('refuses schemes other than http and https', async () => {
    await expect(
      safeFetch('file:///etc/passwd', { timeoutMs: 1_000, maxBytes: 10 }),
    ).rejects.toThrow('refused: only http and https URLs can be fetched, not file:');
  });
});
