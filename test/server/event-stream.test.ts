import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { openEventStream, scriptedAgent, startTestServer, TEST_TOKEN } from './server-fixtures.js';

const auth = { Authorization: `Bearer ${TEST_TOKEN}` };

describe('server-sent events', () => {
  it('resumes after a disconnect with Last-Event-ID, without loss or repetition', async () => {
    const { api, url, service } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('resumable'));
    await api('POST', '/api/agents/resumable/run', { wait: true });
    await api('POST', '/api/agents/resumable/run', { wait: true });

    const first = await openEventStream(`${url}/api/agents/resumable/events?since=0`, auth);
    const seen = [await first.next(), await first.next(), await first.next()];
    first.close();
    // Events keep happening while the client is away.
    await api('POST', '/api/agents/resumable/run', { wait: true });

    const stored = await service.readEvents({ agent_id: 'resumable' });
    const lastSeen = seen.at(-1)?.id ?? '';
    // The URL still says since=0, as a browser's EventSource would resend it: the header wins.
    const second = await openEventStream(`${url}/api/agents/resumable/events?since=0`, {
      ...auth,
      'Last-Event-ID': lastSeen,
    });
    while (seen.length < stored.length) seen.push(await second.next());
    expect(seen.map((message) => message.id)).toEqual(stored.map((event) => event.id));
    expect(seen.map((message) => message.event)).toEqual(stored);

    // Still live after the replay: a new run's events follow, none repeated.
    await api('POST', '/api/agents/resumable/run', { wait: true });
    const next = await second.next();
    expect(next.event.type).toBe('background_task_started');
    expect(seen.map((message) => message.id)).not.toContain(next.id);
  });

  it('starts live by default and replays from ?since=', async () => {
    const { api, url, service } = await startTestServer();
    await api('POST', '/api/agents', scriptedAgent('history'));
    await api('POST', '/api/agents/history/run', { wait: true });
    const live = await openEventStream(`${url}/api/agents/history/events`, auth);
    await api('POST', '/api/agents/history/start');
    const status = await live.next();
    expect(status.event).toMatchObject({
      type: 'background_agent_status',
      payload: { state: 'active' },
    });

    const stored = await service.readEvents({ agent_id: 'history' });
    const middle = stored[1]?.id ?? '';
    const replay = await openEventStream(`${url}/api/agents/history/events?since=${middle}`, auth);
    expect((await replay.next()).id).toBe(stored[2]?.id);
  });

  it('sends keep-alive comments and ends the service stream when the client disconnects', async () => {
    const { api, url } = await startTestServer({ keepAliveMs: 20 });
    const stream = await openEventStream(`${url}/api/events`, auth);
    const metric = async () =>
      /^nightshift_http_event_streams (\d+)$/m.exec((await api('GET', '/metrics')).body)?.[1];
    expect(await metric()).toBe('1');
    await waitFor(() => stream.raw.includes(': keep-alive'), { what: 'a keep-alive comment' });
    stream.close();
    await waitFor(async () => (await metric()) === '0', {
      what: 'the stream to end on the server',
    });
  });

  it('ends open streams when the server closes', async () => {
    const { url, server } = await startTestServer();
    const stream = await openEventStream(`${url}/api/events`, auth);
    await server.close();
    await expect(stream.next(2000)).rejects.toThrow(/ended/);
  });
});
