import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import type { RunRecord } from '../../src/storage/index.js';
import {
  ARTIFACTS,
  eventually,
  launchChromium,
  skipBrowser,
  watchedPage,
} from './chromium-fixture.js';
import { onCleanup, startTestServer, TEST_TOKEN } from './server-fixtures.js';

/**
 * The run page of a replay, in a real browser: "Replay of" the original, the diff a row a call
 * with the first divergence marked; and the Replay form of an ended run, which starts a replay
 * through the API (with the page's token) and opens its page.
 */

async function openRun(page: Page, url: string, runId: string): Promise<void> {
  await page.goto(`${url}/runs/${encodeURIComponent(runId)}`);
  if (await page.locator('#token-input').isVisible()) {
    await page.locator('#token-input').fill(TEST_TOKEN);
    await page.getByRole('button', { name: 'Save token' }).click();
  }
  await page.locator('#run[data-loaded="true"]').waitFor();
}

describe('replays on the run page, in a real browser', () => {
  describe.skipIf(skipBrowser)('with Chromium', () => {
    let browser: Browser;
    let service: BackgroundAgentService;
    let original: RunRecord;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    async function setup(): Promise<string> {
      service = new BackgroundAgentService(
        new MemoryRouter('in_memory'),
        new EventRouter('in_memory'),
      );
      await service.startManager();
      onCleanup(() => service.shutdown({ timeout: 1000 }));
      await service.create({
        agent_id: 'monitor',
        interval: 3600,
        system_instruction: 'You watch the disks.',
        tools: ['system_stats'],
        model_config: {
          provider: 'scripted',
          script: [{ tool: 'system_stats' }, { answer: 'All disks have room.' }],
        },
        task_config: { query: 'Check the disk.' },
      });
      original = await service.runNow('monitor', { wait: true });
      expect(original.status).toBe('completed');
      return (await startTestServer({}, service)).url;
    }

    it('shows a replay of a changed agent with its diff, the first divergence marked', async () => {
      const url = await setup();
      await service.updateAgent('monitor', { system_instruction: 'You watch the disks, briefly.' });
      const replay = await service.replayRun(original.run_id, { wait: true });

      const { page, problems } = await watchedPage(browser);
      await openRun(page, url, replay.run_id);
      const panel = page.locator('#run-replay');
      expect(await panel.isVisible()).toBe(true);
      expect(await panel.locator('[data-role="replay-of"]').textContent()).toBe(
        `Replay of ${original.run_id} (model recorded, tools recorded)`,
      );
      expect(await panel.locator('[data-role="original-link"]').getAttribute('href')).toBe(
        `/runs/${encodeURIComponent(original.run_id)}`,
      );
      const rows = panel.locator('table.replay-diff tbody tr');
      expect(await rows.count()).toBe(3);
      expect(await rows.evaluateAll((all) => all.map((row) => row.dataset.same))).toEqual([
        'false',
        'true',
        'false',
      ]);
      const first = panel.locator('tr[data-first="true"]');
      expect(await first.count()).toBe(1);
      expect(await first.getAttribute('data-index')).toBe('0');
      expect(await first.locator('td.verdict').textContent()).toBe('differs');
      expect(await first.locator('ul.differences li').first().textContent()).toMatch(
        /request differs/,
      );
      expect(await panel.locator('[data-role="divergence"]').textContent()).toMatch(
        /^First divergence at #0: .*request differs.*The answer is the same\.$/,
      );
      mkdirSync(ARTIFACTS, { recursive: true });
      await panel.screenshot({ path: join(ARTIFACTS, 'run-page-replay-diff.png') });
      expect(problems).toEqual([]);
    });

    it('replays an ended run from its form, then opens the replay: no divergence', async () => {
      const url = await setup();
      const { page, problems } = await watchedPage(browser);
      await openRun(page, url, original.run_id);
      const form = page.locator('#run-replay [data-role="replay-form"]');
      expect(await form.isVisible()).toBe(true);
      expect(await page.locator('#run-replay [data-role="replay-of"]').count()).toBe(0);
      await form.locator('select[name="tools"]').selectOption('recorded');
      await form.locator('button[data-action="replay"]').click();

      await page.waitForURL(
        (address) => address.pathname !== `/runs/${encodeURIComponent(original.run_id)}`,
      );
      const replayId = decodeURIComponent(new URL(page.url()).pathname.replace(/^\/runs\//, ''));
      expect(await service.getRun(replayId)).toMatchObject({
        trigger: 'replay',
        replay_of: original.run_id,
        replay_mode: { model: 'recorded', tools: 'recorded' },
      });
      await page.locator('#run[data-loaded="true"]').waitFor();
      // The page follows the replay to its end, then shows the diff in full.
      await eventually(() =>
        page.locator('#run-replay [data-role="divergence"]').textContent(),
      ).toBe('No divergence: the replay made the same calls. The answer is the same.');
      expect(
        await page.locator('#run-replay table.replay-diff td.verdict').allTextContents(),
      ).toEqual(['same', 'same', 'same']);
      expect(problems).toEqual([]);
    });

    it('offers no Replay form on a run that has not ended', async () => {
      const url = await setup();
      // A run that waits for a budget has not ended.
      await service.create({
        agent_id: 'waiter',
        interval: 3600,
        tools: ['system_stats'],
        model_config: {
          provider: 'scripted',
          script: [{ tool: 'system_stats' }, { answer: 'done' }],
        },
        task_config: { query: 'Wait.' },
        budget_config: { per_day: { requests: 1 }, on_exhausted: 'wait' },
      });
      const waiting = await service.runNow('waiter', { wait: true });
      expect(waiting.status).toBe('awaiting_budget');
      const { page, problems } = await watchedPage(browser);
      await openRun(page, url, waiting.run_id);
      expect(await page.locator('#run-replay').isHidden()).toBe(true);
      expect(await page.locator('#run-replay [data-role="replay-form"]').count()).toBe(0);
      expect(problems).toEqual([]);
    });
  });
});
