import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedAgent, startTestServer, TEST_TOKEN } from './server-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
const chromiumMissing = !existsSync(CHROMIUM);
/** Polls what the page shows until it matches, with room for a slow, busy machine. */
const eventually = <T>(read: () => Promise<T>) =>
  expect.poll(read, { timeout: 10_000, interval: 50 });
if (chromiumMissing && process.env.CI !== 'true') {
  console.warn(
    `dashboard browser test skipped: no Chromium at ${CHROMIUM} (install the Debian "chromium" package)`,
  );
}

describe('dashboard in a real browser', () => {
  // In CI a missing Chromium is not skipped: launching it fails the suite.
  describe.skipIf(chromiumMissing && process.env.CI !== 'true')('with Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('asks for the token, shows the fleet, pauses an agent, and streams live events on the agent page', async () => {
      const { api, url } = await startTestServer();
      const usage = (input: number, output: number) => ({
        input_tokens: input,
        output_tokens: output,
      });
      await api(
        'POST',
        '/api/agents',
        scriptedAgent('disk_monitor', {
          interval: 300,
          tools: ['system_stats'],
          model_config: {
            provider: 'scripted',
            script: [
              { tool: 'system_stats', usage: usage(120, 30) },
              { answer: 'Memory at {{system_stats.memory.used_percent}}%', usage: usage(200, 25) },
            ],
          },
        }),
      );
      await api('POST', '/api/agents', scriptedAgent('news_digest', { interval: 3600 }));
      await api(
        'POST',
        '/api/agents',
        scriptedAgent('archiver', {
          model_config: { provider: 'scripted', script: [{ fail: 'upstream returned 503' }] },
        }),
      );
      await api('POST', '/api/agents/disk_monitor/start');
      await api('POST', '/api/agents/news_digest/start');
      for (let run = 0; run < 3; run += 1)
        await api('POST', '/api/agents/disk_monitor/run', { wait: true });
      await api('POST', '/api/agents/archiver/run', { wait: true });

      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });

      await page.goto(url);
      await page.locator('#token-input').fill(TEST_TOKEN);
      await page.getByRole('button', { name: 'Save token' }).click();
      const row = (agentId: string) => page.locator(`tr[data-agent-id="${agentId}"]`);
      await eventually(() => page.locator('#fleet-rows tr[data-agent-id]').count()).toBe(3);
      await eventually(() => row('disk_monitor').locator('[data-role="runs"]').textContent()).toBe(
        '3',
      );
      expect(await row('archiver').locator('[data-role="status"]').textContent()).toBe('failed');

      await row('news_digest').locator('button[data-action="pause"]').click();
      await eventually(() => row('news_digest').locator('[data-role="state"]').textContent()).toBe(
        'paused',
      );
      expect((await api('GET', '/api/agents/news_digest')).body.state).toBe('paused');
      await page.locator('#live.on').waitFor();

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard.png'), fullPage: true });

      await row('disk_monitor').getByRole('link', { name: 'disk_monitor' }).click();
      await page.waitForURL(`${url}/agents/disk_monitor`);
      await eventually(() => page.locator('#agent-state [data-role="state"]').textContent()).toBe(
        'active',
      );
      await page.locator('#run-chart svg polyline.duration').waitFor();
      await page.locator('#live.on').waitFor();
      await page.locator('#agent-actions button[data-action="run"]').click();
      const completed = page.locator('#event-log li[data-event-type="background_task_completed"]');
      await completed.waitFor({ timeout: 10_000 });
      expect(await page.locator('#event-log li[data-event-type="tool_call_result"]').count()).toBe(
        1,
      );
      await eventually(() => page.locator('#run-rows tr[data-run-id]').count()).toBe(4);
      const newest = page
        .locator('#run-rows tr[data-run-id]')
        .first()
        .locator('[data-role="status"]');
      await eventually(() => newest.textContent()).toBe('completed');
      expect(await page.locator('#definition').textContent()).toContain(
        '"agent_id": "disk_monitor"',
      );
      await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-agent.png'), fullPage: true });

      expect(problems).toEqual([]);
      await page.close();
    });
  });
});
