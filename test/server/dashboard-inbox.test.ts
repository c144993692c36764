/**
 * The operator inbox in a real browser: a tool call waiting for approval is approved with its
 * button and its run completes; others appear and go live as they are asked for and decided
 * elsewhere; a run waiting for budget is granted more (and another denied); an auto-paused
 * agent is resumed; the header's count follows it all over server-sent events.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  type ToolDefinition,
} from '../../src/index.js';
import {
  ARTIFACTS,
  eventually,
  launchChromium,
  skipBrowser,
  watchedPage,
} from './chromium-fixture.js';
import { onCleanup, scriptedAgent, startTestServer, TEST_TOKEN } from './server-fixtures.js';

/** What the tool really wrote, in order. */
const written: string[] = [];
const writeNote: ToolDefinition<{ path: string; text?: string }> = {
  description: 'Writes a note to a file.',
  inputSchema: {
    type: 'object',
    properties: { path: { type: 'string' }, text: { type: 'string' } },
    required: ['path'],
  },
  execute: ({ path }) => {
    written.push(path);
    return { written: path };
  },
};

/** A managing service on in-memory stores with the `write_note` tool, and a server over it. */
async function inboxServer() {
  written.length = 0;
  const service = new BackgroundAgentService(
    new MemoryRouter('in_memory'),
    new EventRouter('in_memory'),
    { tools: { write_note: writeNote as ToolDefinition<never> } },
  );
  await service.startManager();
  onCleanup(() => service.shutdown({ timeout: 1000 }));
  return startTestServer({}, service);
}

/** An agent that writes `path` with `write_note`, then answers. */
const noteWriter = (agentId: string, path: string, extra: Record<string, unknown> = {}) =>
  scriptedAgent(agentId, {
    tools: ['write_note'],
    model_config: {
      provider: 'scripted',
      script: [
        { tool: 'write_note', args: { path, text: 'hello' } },
        { answer: `${path} written` },
      ],
    },
    task_config: { query: `Write ${path}, then answer.`, max_retries: 0 },
    ...extra,
  });

const asksFirst = { agent_config: { approvals: [{ tools: ['write_note'] }] } };

/** Opens the inbox and saves the token; resolves once it has read the inbox. */
async function openInbox(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/inbox`);
  await page.locator('#token-input').fill(TEST_TOKEN);
  await page.getByRole('button', { name: 'Save token' }).click();
  await page.locator('body[data-inbox-loaded]').waitFor();
}

const headerCount = (page: Page) => page.locator('#inbox-count').getAttribute('data-count');

/** Console errors a test provokes on purpose: the API refusing a request (its status logged). */
const refusedRequest = /Failed to load resource: the server responded with a status of (400|409)/;

describe('the operator inbox in a real browser', () => {
  describe.skipIf(skipBrowser)('with Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('approves a waiting tool call with its button and the run completes; others come and go live', async () => {
      const { api, url } = await inboxServer();
      await api('POST', '/api/agents', noteWriter('scribe', 'notes.txt', asksFirst));
      const waiting = (await api('POST', '/api/agents/scribe/run', { wait: true })).body;
      expect(waiting.status).toBe('awaiting_approval');

      const { page, problems } = await watchedPage(browser);
      await openInbox(page, url);
      const approvals = page.locator('#approvals li[data-role="approval"]');
      await eventually(() => approvals.count()).toBe(1);
      const item = approvals.first();
      expect(await item.getAttribute('data-run-id')).toBe(waiting.run_id);
      expect(await item.locator('[data-role="tool-name"]').textContent()).toBe('write_note');
      expect(
        JSON.parse((await item.locator('pre[data-role="arguments"]').textContent()) ?? ''),
      ).toEqual({ path: 'notes.txt', text: 'hello' });
      expect(await item.locator('a[data-role="run-link"]').getAttribute('href')).toBe(
        `/runs/${encodeURIComponent(waiting.run_id)}`,
      );
      expect(await item.locator('time[data-role="expires"]').textContent()).toBe('in 24 h');
      expect(await headerCount(page)).toBe('1');
      expect(await page.locator('#approvals-count').textContent()).toBe('1');
      await page.locator('#live.on').waitFor();

      // The run's conversation so far, from its report.
      await item.locator('details[data-role="conversation"] summary').click();
      const turns = item.locator('[data-role="conversation-turns"]');
      await turns.waitFor();
      expect(await turns.locator('[data-role="task-turn"]').textContent()).toContain(
        'Write notes.txt, then answer.',
      );
      expect(await turns.locator('[data-role="model-turn"]').first().textContent()).toContain(
        'asks to call write_note',
      );
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-inbox.png'), fullPage: true });

      // Without a name the decision is not sent: the item says why.
      await item.locator('button[data-action="approve"]').click();
      await eventually(() => item.locator('[data-role="error"]').textContent()).toContain(
        'Deciding as',
      );
      expect(await approvals.count()).toBe(1);

      await page.locator('#operator-name').fill('ana');
      await item.locator('input[data-role="note"]').fill('looks right');
      await item.locator('button[data-action="approve"]').click();
      await eventually(() => approvals.count()).toBe(0);
      await eventually(() => headerCount(page)).toBe('0');
      expect(await page.locator('#approvals li.empty').textContent()).toContain('No tool call');
      await eventually(
        async () => (await api('GET', `/api/runs/${waiting.run_id}`)).body.status,
      ).toBe('completed');
      expect(written).toEqual(['notes.txt']);
      const [decided] = (await api('GET', `/api/approvals?run_id=${waiting.run_id}`)).body
        .approvals;
      expect(decided).toMatchObject({ state: 'approved', decided_by: 'ana', note: 'looks right' });

      // Another run asks: it appears without a reload; a decision elsewhere takes it away.
      await api('POST', '/api/agents', noteWriter('clerk', 'ledger.txt', asksFirst));
      const second = (await api('POST', '/api/agents/clerk/run', { wait: true })).body;
      await eventually(() => approvals.count()).toBe(1);
      expect(await approvals.first().getAttribute('data-run-id')).toBe(second.run_id);
      await eventually(() => headerCount(page)).toBe('1');
      const [pending] = (await api('GET', '/api/approvals?state=pending')).body.approvals;
      const denied = await api(
        'POST',
        `/api/approvals/${encodeURIComponent(pending.approval_id)}/deny`,
        {
          by: 'bo',
          note: 'not today',
        },
      );
      expect(denied.status).toBe(200);
      await eventually(() => approvals.count()).toBe(0);
      await eventually(() => headerCount(page)).toBe('0');
      await eventually(
        async () => (await api('GET', `/api/runs/${second.run_id}`)).body.status,
      ).toBe('completed');
      expect(written).toEqual(['notes.txt']);

      // The name is remembered in this browser; the count is in every page's header.
      await page.goto(url);
      await eventually(() => headerCount(page)).toBe('0');
      expect(await page.locator('#inbox-link').getAttribute('href')).toBe('/inbox');
      const third = (await api('POST', '/api/agents/scribe/run', { wait: true })).body;
      expect(third.status).toBe('awaiting_approval');
      await eventually(() => headerCount(page)).toBe('1');
      await page.locator('#inbox-link').click();
      await page.waitForURL(`${url}/inbox`);
      expect(await page.locator('#operator-name').inputValue()).toBe('ana');
      await eventually(() => approvals.count()).toBe(1);

      // Approved with edited arguments: the tool runs with them.
      const editing = approvals.first();
      await editing.locator('details[data-role="edit-arguments"] summary').click();
      await editing.locator('textarea[data-role="edited-arguments"]').fill('[1, 2]');
      await editing.locator('button[data-action="approve"]').click();
      await eventually(() => editing.locator('[data-role="error"]').textContent()).toContain(
        'JSON object',
      );
      await editing
        .locator('textarea[data-role="edited-arguments"]')
        .fill('{ "path": "edited.txt", "text": "hello" }');
      await editing.locator('button[data-action="approve"]').click();
      await eventually(() => approvals.count()).toBe(0);
      await eventually(
        async () => (await api('GET', `/api/runs/${third.run_id}`)).body.status,
      ).toBe('completed');
      expect(written).toEqual(['notes.txt', 'edited.txt']);

      expect(problems).toEqual([]);
      await page.close();
    });

    it('shows the API refusing a decision made elsewhere first in the item, until dismissed', async () => {
      const { api, url } = await inboxServer();
      await api('POST', '/api/agents', noteWriter('scribe', 'notes.txt', asksFirst));
      const waiting = (await api('POST', '/api/agents/scribe/run', { wait: true })).body;
      const { page, problems } = await watchedPage(browser);
      // This page hears no events, so it still shows the approval once it has been decided.
      await page.route('**/api/events*', (route) => route.abort());
      await openInbox(page, url);
      const item = page.locator('#approvals li[data-role="approval"]');
      await eventually(() => item.count()).toBe(1);
      const [pending] = (await api('GET', '/api/approvals?state=pending')).body.approvals;
      expect(
        (
          await api('POST', `/api/approvals/${encodeURIComponent(pending.approval_id)}/approve`, {
            by: 'bo',
          })
        ).status,
      ).toBe(200);

      await page.locator('#operator-name').fill('ana');
      await item.locator('button[data-action="deny"]').click();
      const error = item.locator('[data-role="error"]');
      await eventually(() => error.textContent()).toContain('approved already by bo');
      // The inbox read again after the refusal no longer lists it; the item stays, marked gone.
      await eventually(() => item.getAttribute('data-gone')).toBe('true');
      expect(await item.locator('button[data-action="approve"]').isDisabled()).toBe(true);
      await eventually(() => headerCount(page)).toBe('0');
      await eventually(
        async () => (await api('GET', `/api/runs/${waiting.run_id}`)).body.status,
      ).toBe('completed');
      await item.locator('button[data-action="dismiss"]').click();
      await eventually(() => item.count()).toBe(0);
      expect(await page.locator('#approvals li.empty').textContent()).toContain('No tool call');
      expect(
        problems.filter((problem) => !refusedRequest.test(problem) && !/ERR_FAILED/.test(problem)),
      ).toEqual([]);
      await page.close();
    });

    it('grants a run waiting for budget, denies another, and resumes an auto-paused agent', async () => {
      const { api, url } = await inboxServer();
      const dailyRequest = { budget_config: { per_day: { requests: 1 }, on_exhausted: 'wait' } };
      await api('POST', '/api/agents', noteWriter('spender', 'spend.txt', dailyRequest));
      await api('POST', '/api/agents', noteWriter('saver', 'save.txt', dailyRequest));
      await api(
        'POST',
        '/api/agents',
        scriptedAgent('flaky', {
          auto_pause_after_failures: 1,
          model_config: { provider: 'scripted', script: [{ fail: 'upstream returned 503' }] },
          task_config: { query: 'Check.', max_retries: 0 },
        }),
      );
      await api('POST', '/api/agents/flaky/start');
      const spending = (await api('POST', '/api/agents/spender/run', { wait: true })).body;
      const saving = (await api('POST', '/api/agents/saver/run', { wait: true })).body;
      expect([spending.status, saving.status]).toEqual(['awaiting_budget', 'awaiting_budget']);
      expect((await api('POST', '/api/agents/flaky/run', { wait: true })).body.status).toBe(
        'failed',
      );
      expect((await api('GET', '/api/agents/flaky')).body.state).toBe('paused');

      const { page, problems } = await watchedPage(browser);
      await openInbox(page, url);
      const waits = page.locator('#budget-waits li[data-role="budget-wait"]');
      const paused = page.locator('#paused-agents li[data-role="paused-agent"]');
      await eventually(() => waits.count()).toBe(2);
      await eventually(() => paused.count()).toBe(1);
      expect(await headerCount(page)).toBe('3');
      await page.locator('#live.on').waitFor();

      const spender = page.locator(`#budget-waits li[data-run-id="${spending.run_id}"]`);
      expect(await spender.locator('[data-role="budget"]').textContent()).toContain(
        "the agent's per_day budget of requests",
      );
      expect(await spender.locator('time[data-role="resets"]').getAttribute('datetime')).toBe(
        spending.error.budget.resets_at,
      );
      expect(await spender.locator('input[data-role="grant-amount"]').inputValue()).toBe('1');
      await page.screenshot({
        path: resolve(ARTIFACTS, 'dashboard-inbox-budget.png'),
        fullPage: true,
      });

      await page.locator('#operator-name').fill('ana');
      await spender.locator('input[data-role="note"]').fill('one more for the report');
      await spender.locator('button[data-action="grant"]').click();
      await eventually(() => waits.count()).toBe(1);
      await eventually(
        async () => (await api('GET', `/api/runs/${spending.run_id}`)).body.status,
      ).toBe('completed');
      expect(written).toContain('spend.txt');
      const { grants } = (await api('GET', '/api/budgets')).body;
      expect(grants[0]).toMatchObject({
        scope: 'agent',
        name: 'spender',
        window: 'per_day',
        requests: 1,
        by: 'ana',
        note: 'one more for the report',
      });
      await eventually(() => headerCount(page)).toBe('2');

      // A denial needs a note: the API says so in the item; with one, the run ends.
      const saver = page.locator(`#budget-waits li[data-run-id="${saving.run_id}"]`);
      await saver.locator('button[data-action="deny-budget"]').click();
      await eventually(() => saver.locator('[data-role="error"]').textContent()).toContain('note');
      await saver.locator('input[data-role="note"]').fill('not worth it');
      await saver.locator('button[data-action="deny-budget"]').click();
      await eventually(() => waits.count()).toBe(0);
      const denied = (await api('GET', `/api/runs/${saving.run_id}`)).body;
      expect(denied.status).toBe('budget_exceeded');
      expect(denied.error.message).toContain('denied by ana: not worth it');

      const flaky = paused.first();
      expect(await flaky.locator('[data-role="last-error"]').textContent()).toBe(
        'model_error: upstream returned 503',
      );
      expect(await flaky.locator('[data-role="pause-reason"]').textContent()).toMatch(
        /^auto-paused after 1 consecutive failed runs/,
      );
      await flaky.locator('button[data-action="resume"]').click();
      await eventually(() => paused.count()).toBe(0);
      expect((await api('GET', '/api/agents/flaky')).body.state).toBe('active');
      await eventually(() => headerCount(page)).toBe('0');
      expect(await page.locator('#inbox-summary').textContent()).toBe(
        'Nothing is waiting on a person.',
      );

      expect(problems.filter((problem) => !refusedRequest.test(problem))).toEqual([]);
      await page.close();
    });
  });
});
