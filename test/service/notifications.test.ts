/**
 * Alerts through the service, to real local HTTP receivers that verify signatures with the
 * exported helper: retries, refusals, storms, several managers on one store, secrets, and a
 * receiver that hangs.
 */
import { describe, expect, it } from 'vitest';
import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import {
  startServer,
  verifyNightshiftSignature,
  type BackgroundAgentServiceOptions,
  type NightshiftEvent,
  type ServiceLogger,
} from '../../src/index.js';
import { mockModel } from '../agent/mock-model.js';
import { waitFor } from '../helpers/wait-for.js';
import { startReceiver } from './notifications-receiver.js';
import {
  collectEvents,
  makeService,
  onCleanup,
  scriptedAgent,
  temporaryDatabase,
  testAgent,
  testProvider,
} from './service-fixtures.js';

const SECRET = 'whsec-test-2f9c1e';

type Notifications = NonNullable<BackgroundAgentServiceOptions['notifications']>;

/** A model that always fails: every run of an agent on it ends `failed`. */
const failing = () =>
  testProvider(
    mockModel(() => {
      throw new Error('upstream down');
    }),
  );

function outcomes(events: NightshiftEvent[]) {
  return events.filter(
    (event) => event.type === 'notification_sent' || event.type === 'notification_failed',
  );
}

/** Every log line the service writes, as JSON. */
function capturingLogger(): { logger: ServiceLogger; lines: string[] } {
  const lines: string[] = [];
  const write =
    (level: string) =>
    (object: object, message?: string): void => {
      lines.push(JSON.stringify({ level, message, ...object }));
    };
  return { logger: { info: write('info'), warn: write('warn'), error: write('error') }, lines };
}

describe('webhook alerts', () => {
  it('signs the body, retries after a 500 and records notification_sent with attempts 2', async () => {
    const receiver = await startReceiver({
      secret: SECRET,
      respond: (index) => (index === 0 ? 500 : 200),
    });
    const notifications: Notifications = {
      dashboard_url: 'http://dashboard.example:7420/',
      retry_delays: [0.05],
      targets: [
        {
          name: 'ops',
          type: 'webhook',
          url: `${receiver.url}/hook`,
          secret: SECRET,
          events: ['run_failed'],
        },
      ],
    };
    const service = makeService({ providers: failing(), notifications });
    await service.startManager();
    const events = collectEvents(service);
    await service.create(testAgent('flaky', { task_config: { query: 'q', max_retries: 0 } }));
    const run = await service.runNow('flaky', { wait: true });
    expect(run.status).toBe('failed');

    const sent = await waitFor(() => outcomes(events)[0], { what: 'the outcome' });
    const failure = events.find(
      (event) => event.type === 'background_task_error' && event.run_id === run.run_id,
    );
    expect(sent).toMatchObject({
      type: 'notification_sent',
      agent_id: 'flaky',
      run_id: run.run_id,
    });
    expect(sent.payload).toEqual({
      target: 'ops',
      kind: 'run_failed',
      event_id: failure?.id,
      attempts: 2,
      status_code: 200,
    });
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests.map((request) => request.verified)).toEqual([true, true]);
    const [, delivered] = receiver.requests;
    expect(delivered?.path).toBe('/hook');
    expect(delivered?.headers['x-nightshift-kind']).toBe('run_failed');
    expect(delivered?.headers['x-nightshift-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(delivered?.json).toMatchObject({
      kind: 'run_failed',
      agent_id: 'flaky',
      run_id: run.run_id,
      inbox_url: 'http://dashboard.example:7420/inbox',
      event: { id: failure?.id, type: 'background_task_error', payload: { will_retry: false } },
    });
    expect(delivered?.json.summary).toMatch(/^run \S+ of flaky ended failed: model_error: /);
    // The signature covers the body exactly, and only with the right secret.
    const header = String(delivered?.headers['x-nightshift-signature']);
    expect(verifyNightshiftSignature(`${delivered?.body} `, header, SECRET)).toBe(false);
    expect(verifyNightshiftSignature(delivered?.body ?? '', header, 'another-secret')).toBe(false);
    expect(outcomes(events)).toHaveLength(1);
  });

  it('gives up at once on a 400: notification_failed after one attempt, never retried', async () => {
    const receiver = await startReceiver({ secret: SECRET, respond: () => 400 });
    const service = makeService({
      providers: failing(),
      notifications: {
        retry_delays: [0.01],
        targets: [
          {
            name: 'strict',
            type: 'webhook',
            url: `${receiver.url}/hook`,
            secret: SECRET,
            events: ['run_failed'],
          },
        ],
      },
    });
    await service.startManager();
    const events = collectEvents(service);
    await service.create(testAgent('refused', { task_config: { query: 'q', max_retries: 0 } }));
    await service.runNow('refused', { wait: true });
    const failed = await waitFor(() => outcomes(events)[0]);
    expect(failed.type).toBe('notification_failed');
    expect(failed.payload).toMatchObject({
      target: 'strict',
      kind: 'run_failed',
      attempts: 1,
      status_code: 400,
      error: 'HTTP 400',
    });
    expect(receiver.requests).toHaveLength(1);
  });

  it('alerts agent_auto_paused when failures pause an agent, and not for a run that will be retried', async () => {
    const receiver = await startReceiver({ secret: SECRET });
    const service = makeService({
      providers: failing(),
      notifications: {
        targets: [
          {
            name: 'ops',
            type: 'webhook',
            url: receiver.url,
            secret: SECRET,
            events: ['agent_auto_paused', 'run_failed'],
          },
        ],
      },
    });
    await service.startManager();
    const events = collectEvents(service);
    await service.create(
      testAgent('fragile', {
        auto_pause_after_failures: 1,
        task_config: { query: 'q', max_retries: 1, retry_delay: 0.01 },
      }),
    );
    await service.startAgent('fragile');
    await service.runNow('fragile', { wait: true });
    await waitFor(() => outcomes(events).length === 2, { what: 'two alerts' });
    expect(receiver.requests.map((request) => request.json.kind).sort()).toEqual([
      'agent_auto_paused',
      'run_failed',
    ]);
    const paused = receiver.requests.find((request) => request.json.kind === 'agent_auto_paused');
    expect(paused?.json.summary).toMatch(/^fragile was paused after repeated failures/);
    // The first attempt's error (will_retry: true) is no alert.
    expect(
      events.filter((event) => event.type === 'background_task_error').map((e) => e.payload),
    ).toMatchObject([{ will_retry: true }, { will_retry: false }]);
  });
});

describe('storms', () => {
  /** An agent whose every run is refused by its own budget: a `budget_exhausted` each. */
  const spender = (agentId: string): AgentDefinitionInput => ({
    agent_id: agentId,
    interval: 3600,
    model_config: {
      provider: 'openai_compatible',
      model: 'priced',
      // Never reached: the budget refuses the request before it is sent.
      base_url: 'http://127.0.0.1:9/v1',
      pricing: { input_per_million: 2, output_per_million: 8 },
      max_tokens: 100,
    },
    task_config: { query: 'Work.', max_retries: 0 },
    budget_config: { per_run: { usd: 0.0005 } },
  });

  it('sends one message for 20 budget_exhausted of one agent, folds the count into the next, and summarises a window that closes', async () => {
    let clock = Date.parse('2026-03-02T10:00:00Z');
    const receiver = await startReceiver();
    const service = makeService({
      now: () => new Date(clock),
      notifications: {
        dashboard_url: 'https://nightshift.example',
        targets: [
          {
            name: 'chat',
            type: 'slack',
            url: `${receiver.url}/services/T000/B000/XXXX`,
            events: ['budget_exhausted'],
          },
        ],
      },
    });
    await service.startManager();
    const events = collectEvents(service);
    await service.create(spender('digest'));
    for (let index = 0; index < 20; index += 1) {
      const run = await service.runNow('digest', { wait: true });
      expect(run.status).toBe('budget_exceeded');
    }
    const exhausted = () => events.filter((event) => event.type === 'budget_exhausted');
    await waitFor(() => exhausted().length === 20 && outcomes(events).length === 1);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]?.json).toEqual({
      text: expect.stringMatching(
        /^Nightshift: digest ran out of budget: budget\.run\.usd: .* <https:\/\/nightshift\.example\/inbox\|Open the inbox>$/,
      ),
    });
    expect(receiver.requests[0]?.json.text).not.toContain('more');

    // The next one after the window carries the 19 held back.
    clock += 61_000;
    await service.runNow('digest', { wait: true });
    await waitFor(() => outcomes(events).length === 2);
    expect(receiver.requests[1]?.json.text).toContain(
      '(and 19 more budget_exhausted for digest in the last minute)',
    );
    expect(outcomes(events)[1]?.payload).toMatchObject({
      target: 'chat',
      kind: 'budget_exhausted',
      attempts: 1,
      coalesced: 19,
      event_id: exhausted()[20]?.id,
    });

    // Five more in the new window are held; when it closes, one summary says so.
    for (let index = 0; index < 5; index += 1) await service.runNow('digest', { wait: true });
    await waitFor(() => exhausted().length === 26);
    expect(receiver.requests).toHaveLength(2);
    clock += 70_000;
    await waitFor(() => outcomes(events).length === 3, { what: 'the summary' });
    expect(receiver.requests[2]?.json.text).toContain(
      '(and 4 more budget_exhausted for digest in the last minute)',
    );
    expect(outcomes(events)[2]?.payload).toMatchObject({
      coalesced: 4,
      event_id: exhausted()[25]?.id,
    });
    expect(receiver.requests).toHaveLength(3);
  });
});

describe('several managers on one store', () => {
  it('sends each alert once per target, whichever manager hears it first', async () => {
    const url = temporaryDatabase();
    const receiver = await startReceiver({ secret: SECRET });
    const notifications: Notifications = {
      coalesce_seconds: 0,
      targets: [
        { name: 'ops', type: 'webhook', url: receiver.url, secret: SECRET, events: ['run_failed'] },
        {
          name: 'audit',
          type: 'webhook',
          url: `${receiver.url}/audit`,
          secret: SECRET,
          events: ['run_failed'],
        },
      ],
    };
    const first = capturingLogger();
    const second = capturingLogger();
    const one = makeService({ url, providers: failing(), notifications, logger: first.logger });
    const two = makeService({ url, providers: failing(), notifications, logger: second.logger });
    await one.startManager();
    await two.startManager();
    const events = collectEvents(one);
    await one.create(testAgent('shared', { task_config: { query: 'q', max_retries: 0 } }));
    for (let index = 0; index < 3; index += 1) await one.runNow('shared', { wait: true });

    // Six messages (three failures, two targets); each one claimed by one manager, given up by
    // the other.
    const passed = (lines: string[]) =>
      lines.filter((line) => line.includes('alert sent by another process')).length;
    await waitFor(() => outcomes(events).length === 6, { what: 'six outcomes' });
    await waitFor(() => passed(first.lines) + passed(second.lines) === 6, {
      what: 'every other claim given up',
    });
    expect(receiver.requests).toHaveLength(6);
    expect(receiver.requests.every((request) => request.verified)).toBe(true);
    const delivered = receiver.requests.map(
      (request) => `${request.path} ${String(request.json.event.id)}`,
    );
    expect(new Set(delivered).size).toBe(6);
    expect(outcomes(events).every((event) => event.type === 'notification_sent')).toBe(true);
  });
});

describe('secrets', () => {
  it('never lets a target URL with a token appear in events, logs, stored runs, bodies sent or GET /api/events', async () => {
    const url = temporaryDatabase();
    const receiver = await startReceiver();
    const token = 'xoxb-tok3n-9d8c7b6a5f';
    const hookUrl = `${receiver.url}/services/T01/B02/${token}`;
    // A target whose receiver is gone: its failure is recorded and logged, never quoting its URL.
    const goneUrl = `http://127.0.0.1:9/hooks?token=${token}-gone`;
    const { logger, lines } = capturingLogger();
    const service = makeService({
      url,
      logger,
      notifications: {
        retry_delays: [0.01],
        max_attempts: 2,
        targets: [
          { name: 'chat', type: 'slack', url: hookUrl, events: ['run_failed'] },
          { name: 'gone', type: 'webhook', url: goneUrl, secret: SECRET, events: ['run_failed'] },
        ],
      },
    });
    await service.startManager();
    const events = collectEvents(service);
    // The run's own error quotes both URLs: what is stored and sent keeps them redacted.
    await service.create(
      scriptedAgent('leaky', {
        model_config: {
          provider: 'scripted',
          script: [{ fail: `cannot post to ${hookUrl} or ${goneUrl}` }],
        },
        task_config: { query: 'q', max_retries: 0 },
      }),
    );
    const run = await service.runNow('leaky', { wait: true });
    expect(run.status).toBe('failed');
    await waitFor(() => outcomes(events).length === 2, { what: 'both outcomes' });
    const byTarget = Object.fromEntries(
      outcomes(events).map((event) => [event.payload.target, event]),
    );
    expect(byTarget.chat?.type).toBe('notification_sent');
    expect(byTarget.gone).toMatchObject({
      type: 'notification_failed',
      payload: { attempts: 2, error: expect.stringMatching(/fetch failed.*after 2 attempts/) },
    });
    expect(lines.some((line) => line.includes('alert not delivered'))).toBe(true);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]?.json.text).toContain('[redacted]');

    const server = await startServer(service, { port: 0, token: 'api-token-77aa' });
    onCleanup(() => server.close());
    const served = await (
      await fetch(`${server.url}/api/events?since=0&limit=10000`, {
        headers: { authorization: 'Bearer api-token-77aa', accept: 'application/json' },
      })
    ).text();
    expect(served).toContain('notification_failed');
    const { MemoryRouter } = await import('../../src/index.js');
    const raw = await new MemoryRouter('database', { url }).connect();
    onCleanup(() => raw.close());
    const storedRun = JSON.stringify(await raw.runs.get(run.run_id));
    expect(storedRun).toContain('[redacted]');
    for (const [where, text] of [
      ['the event log', JSON.stringify(events)],
      ['GET /api/events', served],
      ['the logs', lines.join('\n')],
      ['the stored run', storedRun],
      ['the bodies sent', receiver.requests.map((request) => request.body).join('\n')],
    ] as const) {
      expect(text, where).not.toContain(token);
      expect(text, where).not.toContain('/services/T01/B02');
    }
  });
});

describe('never in the way', () => {
  it('a run completes while its alert waits on a receiver that hangs, and shutdown does not wait for it', async () => {
    const receiver = await startReceiver({ secret: SECRET, respond: () => 'hang' });
    const service = makeService({
      providers: failing(),
      notifications: {
        timeout_seconds: 600,
        targets: [
          {
            name: 'slow',
            type: 'webhook',
            url: receiver.url,
            secret: SECRET,
            events: ['run_failed'],
          },
        ],
      },
    });
    await service.startManager();
    const events = collectEvents(service);
    await service.create(testAgent('busy', { task_config: { query: 'q', max_retries: 0 } }));
    await service.create(scriptedAgent('after'));
    const failed = await service.runNow('busy', { wait: true });
    expect(failed.status).toBe('failed');
    await waitFor(() => receiver.hanging === 1, { what: 'the webhook in flight' });
    // Other runs go on meanwhile, as fast as ever.
    const started = Date.now();
    const next = await service.runNow('after', { wait: true });
    expect(next.status).toBe('completed');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(receiver.hanging).toBe(1);
    expect(outcomes(events)).toHaveLength(0);

    const stopping = Date.now();
    await service.shutdown({ timeout: 200 });
    expect(Date.now() - stopping).toBeLessThan(5_000);
    await waitFor(() => outcomes(events)[0]);
    expect(outcomes(events)[0]).toMatchObject({
      type: 'notification_failed',
      payload: { target: 'slow', attempts: 1, error: 'not delivered: the service shut down' },
    });
  });
});
