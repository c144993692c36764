import { describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { onCleanup, scriptedAgent, startTestServer } from './server-fixtures.js';

const DAY = 86_400_000;

/** The value of one sample line of Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('retention over HTTP', () => {
  it('prunes with POST /api/retention/prune (dry run first) and shows what was removed in /metrics', async () => {
    let now = Date.parse('2026-11-01T09:00:00.000Z');
    const service = new BackgroundAgentService(
      new MemoryRouter('in_memory'),
      new EventRouter('in_memory'),
      { env: {}, now: () => new Date(now), retention: { runs_days: 1 } },
    );
    onCleanup(() => service.shutdown());
    await service.startManager();
    await service.createFromUntyped(scriptedAgent('worker'));
    await service.runNow('worker', { wait: true });
    await service.runNow('worker', { wait: true });
    now += 2 * DAY;
    const { api } = await startTestServer({}, service);

    const before = await api('GET', '/metrics');
    expect(sample(String(before.body), 'nightshift_retention_removed_total{kind="runs"}')).toBe(0);
    expect(sample(String(before.body), 'nightshift_retention_last_sweep_complete')).toBe(1);

    const dryRun = await api('POST', '/api/retention/prune', { dry_run: true });
    expect(dryRun.status).toBe(200);
    expect(dryRun.body).toMatchObject({
      dry_run: true,
      totals: { runs: 2, events: 0, messages: 0 },
      agents: { worker: { runs: 2, events: 0, messages: 0 } },
      complete: true,
    });
    const pruned = await api('POST', '/api/retention/prune', {});
    expect(pruned.body).toMatchObject({ dry_run: false, totals: { runs: 2 } });
    expect((await api('GET', '/api/agents/worker/runs')).body).toMatchObject({ runs: [] });

    const after = String((await api('GET', '/metrics')).body);
    expect(sample(after, 'nightshift_retention_removed_total{kind="runs"}')).toBe(2);
    expect(sample(after, 'nightshift_retention_removed_total{kind="events"}')).toBe(0);
    expect(sample(after, 'nightshift_retention_sweeps_total')).toBe(1);
    expect(sample(after, 'nightshift_retention_last_sweep_timestamp_seconds')).toBe(now / 1000);

    const bad = await api('POST', '/api/retention/prune', { dry_run: 'yes', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'config_invalid' } });
    const paths = (bad.body as { error: { fields: { path: string }[] } }).error.fields.map(
      (field) => field.path,
    );
    expect(paths).toEqual(expect.arrayContaining(['dry_run', 'extra']));
  });
});
