import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { launchChromium, skipBrowser, watchedPage } from './chromium-fixture.js';
import { onCleanup, startTestServer } from './server-fixtures.js';

describe('the run page of a structured answer, in a real browser', () => {
  describe.skipIf(skipBrowser)('with Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('shows the answer parsed (output_json) pretty-printed beside its text', async () => {
      const service = new BackgroundAgentService(
        new MemoryRouter('in_memory'),
        new EventRouter('in_memory'),
      );
      await service.startManager();
      onCleanup(() => service.shutdown({ timeout: 1000 }));
      await service.create({
        agent_id: 'verdict',
        interval: 3600,
        model_config: {
          provider: 'scripted',
          script: [{ answer: '{"status":"ok","rows":42}' }],
        },
        task_config: {
          query: 'Count the rows.',
          output_schema: {
            type: 'object',
            properties: { status: { type: 'string' }, rows: { type: 'integer' } },
            required: ['status', 'rows'],
          },
        },
      });
      const run = await service.runNow('verdict', { wait: true });
      expect(run.status).toBe('completed');
      const { url } = await startTestServer({ token: '' }, service);

      const { page, problems } = await watchedPage(browser);
      await page.goto(`${url}/runs/${encodeURIComponent(run.run_id)}`);
      await page.locator('#run[data-loaded="true"]').waitFor();
      expect(await page.locator('#run-outcome pre.output').textContent()).toBe(
        '{"status":"ok","rows":42}',
      );
      expect(await page.locator('#run-outcome pre.output-json').textContent()).toBe(
        JSON.stringify({ status: 'ok', rows: 42 }, null, 2),
      );
      expect(problems).toEqual([]);
    });
  });
});
