import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/index.js';
import { startService, startTestServer } from './server-fixtures.js';

describe('/openapi.json', () => {
  it('describes every route the app serves, and nothing it does not', async () => {
    const service = await startService();
    const controller = new AbortController();
    const app = createApp(service, { signal: controller.signal });
    controller.abort();
    const served = new Set(
      app.routes
        .filter((route) => route.method !== 'ALL')
        .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`),
    );

    const { url } = await startTestServer({}, service);
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(document.openapi).toBe('3.1.0');
    const described = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method} ${path}`),
      ),
    );
    expect([...described].sort()).toEqual([...served].sort());
    expect(served.size).toBeGreaterThanOrEqual(22);
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(Object.keys(operation.responses), `${method} ${path}`).not.toHaveLength(0);
      }
    }
  });
});
