import { describe, expect, it } from 'vitest';
import { scriptedAgent, startTestServer, TEST_TOKEN } from './server-fixtures.js';

describe('stored events as JSON', () => {
  it('returns an exact page of an agent’s stored events after since, with Accept: application/json', async () => {
    const { url, service } = await startTestServer();
    await service.create(scriptedAgent('paged'));
    await service.runNow('paged', { wait: true });
    const headers = { authorization: `Bearer ${TEST_TOKEN}`, accept: 'application/json' };
    const all = (await (await fetch(`${url}/api/agents/paged/events`, { headers })).json()) as {
      events: { id: string; type: string }[];
    };
    expect(all.events.map((event) => event.type)).toContain('background_task_completed');
    const rest = (await (
      await fetch(`${url}/api/agents/paged/events?since=${all.events[1]?.id}&limit=2`, { headers })
    ).json()) as {
      events: { id: string }[];
    };
    expect(rest.events.map((event) => event.id)).toEqual(
      all.events.slice(2, 4).map((event) => event.id),
    );
    const bad = await fetch(`${url}/api/agents/paged/events?limit=0`, { headers });
    expect(bad.status).toBe(400);
  });
});
