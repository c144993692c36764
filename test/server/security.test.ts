import { describe, expect, it, vi } from 'vitest';
import { startServer } from '../../src/server/index.js';
import {
  onCleanup,
  rawRequest,
  scriptedAgent,
  startService,
  startTestServer,
  TEST_TOKEN,
} from './server-fixtures.js';

describe('server security', () => {
  it('answers 401 unauthorized without the token, or with a wrong one, on /api and /metrics', async () => {
    const { api, url } = await startTestServer();
    for (const path of ['/api/agents', '/metrics', '/api/events']) {
      const missing = await api('GET', path, undefined, { Authorization: '' });
      expect({ path, status: missing.status, code: missing.body.error?.code }).toEqual({
        path,
        status: 401,
        code: 'unauthorized',
      });
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await api('GET', path, undefined, { Authorization: 'Bearer not-the-token' });
      expect(wrong.status).toBe(401);
      const almost = await api('GET', path, undefined, { Authorization: `Bearer ${TEST_TOKEN}x` });
      expect(almost.status).toBe(401);
      const basic = await api('GET', path, undefined, { Authorization: `Basic ${TEST_TOKEN}` });
      expect(basic.status).toBe(401);
    }
    const changed = await api('POST', '/api/agents', scriptedAgent('sneaky'), {
      Authorization: 'Bearer nope',
    });
    expect(changed.status).toBe(401);
    expect((await api('GET', '/api/agents')).body.agents).toEqual([]);
    // The token is never taken from the URL, where logs and browser history would keep it.
    expect((await fetch(`${url}/api/events?token=${TEST_TOKEN}`)).status).toBe(401);
    expect(
      (await api('GET', '/api/agents', undefined, { Authorization: `bearer ${TEST_TOKEN}` }))
        .status,
    ).toBe(200);
  });

  it('needs no token on loopback when none is set', async () => {
    vi.stubEnv('NIGHTSHIFT_TOKEN', '');
    onCleanup(() => {
      vi.unstubAllEnvs();
    });
    const { api } = await startTestServer({ token: undefined });
    expect((await api('GET', '/api/agents')).status).toBe(200);
  });

  it('takes the token from NIGHTSHIFT_TOKEN by default', async () => {
    vi.stubEnv('NIGHTSHIFT_TOKEN', 'token-from-environment');
    onCleanup(() => {
      vi.unstubAllEnvs();
    });
    const service = await startService();
    const server = await startServer(service, { port: 0 });
    onCleanup(() => server.close());
    expect((await fetch(`${server.url}/api/agents`)).status).toBe(401);
    const authorized = await fetch(`${server.url}/api/agents`, {
      headers: { Authorization: 'Bearer token-from-environment' },
    });
    expect(authorized.status).toBe(200);
  });

  it('refuses to listen on a non-loopback host without a token', async () => {
    vi.stubEnv('NIGHTSHIFT_TOKEN', '');
    onCleanup(() => {
      vi.unstubAllEnvs();
    });
    const service = await startService();
    const refused = await startServer(service, { host: '0.0.0.0', port: 0 }).catch(
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: 'config_invalid', fields: [{ path: 'token' }] });
    const withToken = await startServer(service, { host: '0.0.0.0', port: 0, token: TEST_TOKEN });
    onCleanup(() => withToken.close());
    const answer = await rawRequest(`http://127.0.0.1:${withToken.port}`, {
      path: '/api/agents',
      headers: { Authorization: `Bearer ${TEST_TOKEN}`, Host: `127.0.0.1:${withToken.port}` },
    });
    expect(answer.status).toBe(200);
  });

  it('answers 403 when the Host header does not name the server (DNS rebinding)', async () => {
    const { server } = await startTestServer();
    const auth = { Authorization: `Bearer ${TEST_TOKEN}` };
    for (const host of [
      'evil.example.com',
      `evil.example.com:${server.port}`,
      `127.0.0.1:${server.port + 1}`,
      '127.0.0.1',
    ]) {
      const answer = await rawRequest(server.url, {
        path: '/api/agents',
        headers: { ...auth, Host: host },
      });
      expect({ host, status: answer.status }).toEqual({ host, status: 403 });
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'host_not_allowed' } });
    }
    const page = await rawRequest(server.url, {
      path: '/',
      headers: { Host: 'rebound.example.com' },
    });
    expect(page.status).toBe(403);
    for (const host of [
      `127.0.0.1:${server.port}`,
      `localhost:${server.port}`,
      `LOCALHOST:${server.port}`,
    ]) {
      const answer = await rawRequest(server.url, {
        path: '/api/agents',
        headers: { ...auth, Host: host },
      });
      expect({ host, status: answer.status }).toEqual({ host, status: 200 });
    }
    // Probes come by IP from orchestrators, and reveal nothing.
    const probe = await rawRequest(server.url, {
      path: '/healthz',
      headers: { Host: '10.1.2.3:9999' },
    });
    expect(probe.status).toBe(200);
  });

  it('accepts extra Host values it is told about', async () => {
    const { server } = await startTestServer({ allowedHosts: ['nightshift.internal:443'] });
    const answer = await rawRequest(server.url, {
      path: '/api/agents',
      headers: { Authorization: `Bearer ${TEST_TOKEN}`, Host: 'nightshift.internal:443' },
    });
    expect(answer.status).toBe(200);
  });

  it('answers 403 to requests from another origin, and sends no CORS headers', async () => {
    const { api, url } = await startTestServer();
    const cross = await api('POST', '/api/agents', scriptedAgent('csrf'), {
      Origin: 'http://evil.example.com',
    });
    expect(cross).toMatchObject({ status: 403, body: { error: { code: 'origin_not_allowed' } } });
    expect(cross.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await api('OPTIONS', '/api/agents', undefined, {
      Origin: 'http://evil.example.com',
      'Access-Control-Request-Method': 'POST',
    });
    expect(preflight.status).toBe(403);
    expect((await api('GET', '/api/agents', undefined, { Origin: 'null' })).status).toBe(403);
    expect((await api('GET', '/api/agents')).body.agents).toEqual([]);
    const same = await api('POST', '/api/agents', scriptedAgent('mine'), { Origin: url });
    expect(same.status).toBe(201);
  });

  it('keeps the token out of pages and sends protective headers', async () => {
    const { url } = await startTestServer();
    const page = await fetch(`${url}/`);
    const text = await page.text();
    expect(page.status).toBe(200);
    expect(text).not.toContain(TEST_TOKEN);
    expect(text).toContain('data-token-required="true"');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'nonce-[^']+'/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
  });
});
