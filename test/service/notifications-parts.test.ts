/**
 * The parts of alerting on their own: the signature scheme, which events are alerts, the
 * coalescing windows on an injected clock, the messages' text, and delivery's retry rules
 * against a local receiver.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signNightshiftBody, verifyNightshiftSignature } from '../../src/index.js';
import type { NightshiftEvent } from '../../src/index.js';
import {
  slackBody,
  summaryLine,
  webhookBody,
} from '../../src/service/notifications/alert-content.js';
import { Coalescer } from '../../src/service/notifications/coalescer.js';
import { deliver, SHUT_DOWN_ERROR } from '../../src/service/notifications/delivery.js';
import { notificationKindOf } from '../../src/service/notifications/notification-kinds.js';
import { waitFor } from '../helpers/wait-for.js';
import { startReceiver } from './notifications-receiver.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');

let nextId = 1;
/** A stored event of `type` for `agentId` at `T0 + offsetMs`. */
function event(
  type: NightshiftEvent['type'],
  payload: object,
  { agentId = 'digest', offsetMs = 0 }: { agentId?: string; offsetMs?: number } = {},
): NightshiftEvent {
  return {
    id: String(nextId++),
    type,
    agent_id: agentId,
    run_id: 'run-1',
    timestamp: new Date(T0 + offsetMs).toISOString(),
    payload,
  } as NightshiftEvent;
}

const exhausted = (offsetMs: number, agentId = 'digest') =>
  event(
    'budget_exhausted',
    {
      code: 'budget.agent.per_day.usd',
      message: 'the day budget is spent',
      budget: `agent:${agentId}:per_day:2026-03-02`,
      limit: 1,
      spent: 1,
      held: 0,
      asked: 0.1,
      resets_at: '2026-03-03T00:00:00.000Z',
    },
    { agentId, offsetMs },
  );

const taskError = (status: string, willRetry: boolean) =>
  event('background_task_error', {
    error: { code: 'model_error', message: 'upstream down' },
    attempt: 1,
    will_retry: willRetry,
    status,
  });

describe('the signature', () => {
  it('is HMAC-SHA256 over "<t>.<body>", verified within the tolerance, by the right secret, on the exact body', () => {
    const body = '{"kind":"run_failed"}';
    const header = signNightshiftBody(body, 'secret-1', 1_700_000_000);
    const expected = createHmac('sha256', 'secret-1').update(`1700000000.${body}`).digest('hex');
    expect(header).toBe(`t=1700000000,v1=${expected}`);
    const at = { nowSeconds: 1_700_000_100 };
    expect(verifyNightshiftSignature(body, header, 'secret-1', at)).toBe(true);
    expect(verifyNightshiftSignature(Buffer.from(body), header, 'secret-1', at)).toBe(true);
    expect(verifyNightshiftSignature(`${body} `, header, 'secret-1', at)).toBe(false);
    expect(verifyNightshiftSignature(body, header, 'secret-2', at)).toBe(false);
    expect(
      verifyNightshiftSignature(body, header, 'secret-1', {
        nowSeconds: 1_700_000_400,
        toleranceSeconds: 60,
      }),
    ).toBe(false);
    // The time is signed: moving it breaks the signature.
    expect(
      verifyNightshiftSignature(
        body,
        header.replace('t=1700000000', 't=1700000090'),
        'secret-1',
        at,
      ),
    ).toBe(false);
    for (const bad of [undefined, '', 'v1=abc', 't=1700000000', `t=x,v1=${expected}`])
      expect(verifyNightshiftSignature(body, bad, 'secret-1', at)).toBe(false);
    // Any listed v1 may match (a sender rotating secrets lists two).
    const rotated = `t=1700000000,v1=${'0'.repeat(64)},v1=${expected}`;
    expect(verifyNightshiftSignature(body, rotated, 'secret-1', at)).toBe(true);
  });
});

describe('which events are alerts', () => {
  it('maps the event log to the five kinds', () => {
    expect(notificationKindOf(event('approval_requested', {}))).toBe('approval_requested');
    expect(notificationKindOf(exhausted(0))).toBe('budget_exhausted');
    expect(notificationKindOf(taskError('failed', false))).toBe('run_failed');
    expect(notificationKindOf(taskError('timed_out', false))).toBe('run_failed');
    expect(notificationKindOf(taskError('budget_exceeded', false))).toBe('run_failed');
    expect(notificationKindOf(taskError('failed', true))).toBeUndefined();
    expect(notificationKindOf(taskError('cancelled', false))).toBeUndefined();
    expect(notificationKindOf(taskError('interrupted', false))).toBe('run_interrupted');
    expect(notificationKindOf(taskError('interrupted', true))).toBe('run_interrupted');
    const status = (reason: string) =>
      event('background_agent_status', {
        state: 'paused',
        is_running: false,
        pause_reason: 'paused after 3 consecutive failures',
        next_run_at: null,
        reason,
      });
    expect(notificationKindOf(status('auto_paused'))).toBe('agent_auto_paused');
    expect(notificationKindOf(status('paused'))).toBeUndefined();
    expect(notificationKindOf(event('final_answer', { message: 'done' }))).toBeUndefined();
  });
});

describe('coalescing', () => {
  it('holds a storm back per agent and kind, folds it into the next message, and summarises a window that closes', () => {
    const coalescer = new Coalescer(60);
    const first = coalescer.offer('budget_exhausted', exhausted(0));
    expect(first).toMatchObject({ deliveryId: first?.event.id });
    expect(first?.folded).toBeUndefined();
    const storm = Array.from({ length: 12 }, (_, index) => exhausted(1000 + index));
    for (const held of storm) expect(coalescer.offer('budget_exhausted', held)).toBeUndefined();
    // Another agent, or another kind, has a window of its own.
    expect(coalescer.offer('budget_exhausted', exhausted(2000, 'other'))).toBeDefined();
    expect(coalescer.offer('run_failed', taskError('failed', false))).toBeDefined();

    const next = coalescer.offer('budget_exhausted', exhausted(60_000));
    expect(next?.folded).toEqual({ count: 12, windowSeconds: 60 });
    expect(next?.closesWindow).toBe(first?.event.id);
    expect(next && summaryLine(next)).toBe(
      'digest ran out of budget: budget.agent.per_day.usd: the day budget is spent (and 12 more budget_exhausted for digest in the last minute)',
    );

    // Held in the new window, then summarised once it has closed (with a grace for late events).
    const late = [exhausted(61_000), exhausted(62_000), exhausted(63_000)];
    for (const held of late) coalescer.offer('budget_exhausted', held);
    expect(coalescer.due(new Date(T0 + 120_000))).toEqual([]);
    const [summary, ...others] = coalescer.due(new Date(T0 + 122_000));
    expect(others).toEqual([]);
    expect(summary).toMatchObject({
      event: late[2],
      deliveryId: `summary-${next?.event.id}`,
      closesWindow: next?.event.id,
      folded: { count: 2, windowSeconds: 60 },
    });
    // Closed windows are forgotten: the next event opens a fresh one.
    expect(coalescer.openWindows).toBe(0);
    expect(coalescer.offer('budget_exhausted', exhausted(130_000))?.folded).toBeUndefined();
  });

  it('sends every event with a window of 0', () => {
    const coalescer = new Coalescer(0);
    for (let index = 0; index < 5; index += 1)
      expect(coalescer.offer('budget_exhausted', exhausted(index))?.folded).toBeUndefined();
    expect(coalescer.due(new Date(T0 + 600_000))).toEqual([]);
  });
});

describe('the messages', () => {
  it('gives a webhook the event, its ids, the inbox and the count; Slack one line with the link', () => {
    const message = {
      kind: 'budget_exhausted' as const,
      event: exhausted(0),
      deliveryId: 'x',
      folded: { count: 12, windowSeconds: 120 },
    };
    expect(webhookBody(message, 'https://ns.example/inbox')).toEqual({
      kind: 'budget_exhausted',
      event: message.event,
      agent_id: 'digest',
      run_id: 'run-1',
      inbox_url: 'https://ns.example/inbox',
      summary: expect.stringContaining(
        '(and 12 more budget_exhausted for digest in the last 2 minutes)',
      ),
      coalesced: { count: 12, window_seconds: 120 },
    });
    expect(webhookBody(message, undefined)).not.toHaveProperty('inbox_url');
    const { text } = slackBody(message, 'https://ns.example/inbox');
    expect(text).not.toContain('\n');
    expect(text).toMatch(
      /^Nightshift: digest ran out of budget: .* <https:\/\/ns\.example\/inbox\|Open the inbox>$/,
    );
    expect(
      slackBody(
        { ...message, event: taskError('failed', false), kind: 'run_failed', folded: undefined },
        undefined,
      ).text,
    ).toBe('Nightshift: run run-1 of digest ended failed: model_error: upstream down');
  });
});

describe('delivery', () => {
  const policy = { maxAttempts: 3, retryDelaysMs: [10], timeoutMs: 5_000 };
  const request = (url: string) => ({ url, body: '{}', headers: () => ({}) });

  it('retries a 429 and a 5xx, gives up on another 4xx at once, and stops after its attempts', async () => {
    const busy = await startReceiver({
      respond: (index) => (index === 0 ? 429 : index === 1 ? 503 : 204),
    });
    expect(await deliver(request(busy.url), policy, new AbortController().signal)).toEqual({
      ok: true,
      attempts: 3,
      statusCode: 204,
    });
    const gone = await startReceiver({ respond: () => 404 });
    expect(await deliver(request(gone.url), policy, new AbortController().signal)).toEqual({
      ok: false,
      attempts: 1,
      statusCode: 404,
      error: 'HTTP 404',
    });
    expect(gone.requests).toHaveLength(1);
    const down = await startReceiver({ respond: () => 500 });
    expect(await deliver(request(down.url), policy, new AbortController().signal)).toEqual({
      ok: false,
      attempts: 3,
      statusCode: 500,
      error: 'HTTP 500 (after 3 attempts)',
    });
  });

  it('times a request out and retries it; an abort ends it at once', async () => {
    const slow = await startReceiver({ respond: (index) => (index === 0 ? 'hang' : 200) });
    expect(
      await deliver(request(slow.url), { ...policy, timeoutMs: 100 }, new AbortController().signal),
    ).toEqual({ ok: true, attempts: 2, statusCode: 200 });

    const stuck = await startReceiver({ respond: () => 'hang' });
    const controller = new AbortController();
    const pending = deliver(
      request(stuck.url),
      { ...policy, timeoutMs: 60_000 },
      controller.signal,
    );
    await waitFor(() => stuck.hanging === 1, { what: 'the request in flight' });
    controller.abort();
    expect(await pending).toMatchObject({ ok: false, attempts: 1, error: SHUT_DOWN_ERROR });
  });
});
