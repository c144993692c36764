import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS,
  eventually,
  launchChromium,
  skipBrowser,
  watchedPage,
} from './chromium-fixture.js';
import { scriptedAgent, startTestServer, TEST_TOKEN, type TestServer } from './server-fixtures.js';

/** A server with three agents: two tagged `nightly` (one also `reports`), one untagged; all active. */
async function taggedFleet(): Promise<TestServer> {
  const server = await startTestServer();
  for (const [agentId, tags] of [
    ['loader', ['nightly']],
    ['reporter', ['nightly', 'reports']],
    ['watcher', []],
  ] as const) {
    await server.api('POST', '/api/agents', scriptedAgent(agentId, { tags: [...tags] }));
    await server.api('POST', `/api/agents/${agentId}/start`);
  }
  return server;
}

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('#token-input').fill(TEST_TOKEN);
  await page.getByRole('button', { name: 'Save token' }).click();
}

describe('the dashboard: tags and pause notes in a real browser', () => {
  describe.skipIf(skipBrowser)('with Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('filters the fleet by tag, pauses and resumes the tag, and shows who paused and until when', async () => {
      const { api, url } = await taggedFleet();
      const until = new Date(Date.now() + 2 * 3_600_000).toISOString();
      await api('POST', '/api/agents/watcher/pause', {
        reason: 'disk swap',
        by: 'ana',
        until,
      });

      const { page, problems } = await watchedPage(browser);
      await signIn(page, url);
      const rows = page.locator('#fleet-rows tr[data-agent-id]');
      const row = (agentId: string) => page.locator(`tr[data-agent-id="${agentId}"]`);
      await eventually(() => rows.count()).toBe(3);

      // Who paused and until when, with why, beside the agent.
      expect(await row('watcher').textContent()).toContain('disk swap');
      expect(await row('watcher').locator('[data-role="pause-note"]').textContent()).toMatch(
        /^by ana · resumes .+, in 2 h$/,
      );
      expect(await row('reporter').locator('[data-role="tags"] .tag').allTextContents()).toEqual([
        'nightly',
        'reports',
      ]);

      // The tag filter lists the fleet's tags; choosing one keeps it in the address.
      const select = page.locator('#tag-filter');
      expect(await select.locator('option').allTextContents()).toEqual([
        'all',
        'nightly',
        'reports',
      ]);
      expect(await page.locator('#tag-actions').isVisible()).toBe(false);
      await select.selectOption('nightly');
      await eventually(() => rows.count()).toBe(2);
      expect(await rows.evaluateAll((all) => all.map((tr) => tr.dataset.agentId))).toEqual([
        'loader',
        'reporter',
      ]);
      expect(new URL(page.url()).searchParams.get('tag')).toBe('nightly');
      await page.locator('#tag-actions').waitFor();
      expect(await page.locator('#tag-summary').textContent()).toBe('Tag nightly: 2 agents');

      // Pause the tag, with a reason: both its agents pause, the other stays as it was.
      await page.locator('#tag-pause-reason').fill('warehouse migration');
      await page.locator('#tag-pause').click();
      await eventually(() => row('loader').locator('[data-role="state"]').textContent()).toBe(
        'paused',
      );
      await eventually(() => row('reporter').locator('[data-role="state"]').textContent()).toBe(
        'paused',
      );
      expect(await page.locator('#notice').textContent()).toBe('nightly: 2 paused.');
      expect((await api('GET', '/api/agents/loader')).body).toMatchObject({
        state: 'paused',
        pause_reason: 'warehouse migration',
      });
      expect((await api('GET', '/api/agents/watcher')).body.pause_reason).toBe('disk swap');
      await eventually(() => page.locator('#tag-summary').textContent()).toBe(
        'Tag nightly: 2 agents, 2 paused',
      );
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-tags.png'), fullPage: true });

      // A reload keeps the tag chosen.
      await page.reload();
      await eventually(() => rows.count()).toBe(2);
      expect(await select.inputValue()).toBe('nightly');

      await page.locator('#tag-resume').click();
      await eventually(() => rows.locator('[data-role="state"]').allTextContents()).toEqual([
        'active',
        'active',
      ]);
      expect((await api('GET', '/api/agents/watcher')).body.state).toBe('paused');

      await select.selectOption('');
      await eventually(() => rows.count()).toBe(3);
      expect(await page.locator('#tag-actions').isVisible()).toBe(false);
      expect(problems).toEqual([]);
      await page.close();
    });

    it("shows a paused agent's note on its page", async () => {
      const { api, url } = await taggedFleet();
      const until = new Date(Date.now() + 3 * 3_600_000).toISOString();
      await api('POST', '/api/agents/reporter/pause', { reason: 'audit', by: 'bo', until });
      const { page, problems } = await watchedPage(browser);
      await signIn(page, url);
      await page.goto(`${url}/agents/reporter`);
      const cards = page.locator('#agent-cards');
      await eventually(() => cards.locator('[data-role="paused-by"] .value').textContent()).toBe(
        'bo',
      );
      expect(await cards.locator('[data-role="pause-reason"] .value').textContent()).toBe('audit');
      expect(await cards.locator('[data-role="paused-until"] .note').textContent()).toBe(
        'in 3 h, by itself',
      );
      expect(await cards.locator('[data-role="tags"] .value').textContent()).toBe(
        'nightly, reports',
      );
      await page.locator('#agent-actions button[data-action="resume"]').click();
      await eventually(() => cards.locator('[data-role="paused-by"]').count()).toBe(0);
      expect((await api('GET', '/api/agents/reporter')).body.paused_until).toBeNull();
      expect(problems).toEqual([]);
      await page.close();
    });
  });
});
