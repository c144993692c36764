import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import {
  ARTIFACTS,
  eventually,
  launchChromium,
  skipBrowser,
  watchedPage,
} from './chromium-fixture.js';
import {
  RESUMED_ANSWER,
  resumedRun,
  UNKNOWN_OUTCOME_MESSAGE,
  writeResumedRun,
} from './resumed-run-fixture.js';
import { onCleanup, startTestServer } from './server-fixtures.js';

describe('the run page of a resumed run, in a real browser', () => {
  describe.skipIf(skipBrowser)('with Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('shows where each attempt resumed, the resume, replies, tool outcomes and results cut short', async () => {
      const memory = new MemoryRouter('in_memory');
      const log = new EventRouter('in_memory');
      const service = new BackgroundAgentService(memory, log);
      await service.startManager();
      onCleanup(() => service.shutdown({ timeout: 1000 }));
      const fixture = resumedRun('mailer', Date.now() - 120_000);
      // A result far longer than the page prints of one value.
      const lookup = fixture.steps.find((step) => step.step_id === '1.1');
      if (lookup) lookup.result = 'y'.repeat(10_000);
      await writeResumedRun(fixture, (await memory.connect()).runs, await log.connect());
      const { url } = await startTestServer({ token: '' }, service);

      const { page, problems } = await watchedPage(browser);
      await page.goto(`${url}/runs/${encodeURIComponent(fixture.run.run_id)}`);
      await page.locator('#run[data-loaded="true"]').waitFor();
      const attempt = (number: number) =>
        page.locator(`#attempt-rows tr[data-attempt="${number}"]`);
      expect(await attempt(1).locator('[data-role="resumed-from"]').count()).toBe(0);
      expect(await attempt(2).locator('[data-role="resumed-from"]').textContent()).toBe(
        ' resumed from step 1.3',
      );

      const timeline = page.locator('#timeline > li');
      expect(
        await timeline.evaluateAll((items) => items.map((item) => item.getAttribute('data-kind'))),
      ).toEqual([
        'attempt',
        'event',
        'model_call',
        'tool_call',
        'model_call',
        'tool_call',
        'event',
        'attempt',
        'resume',
        'tool_call',
        'model_call',
        'event',
      ]);
      const step = (stepId: string) => page.locator(`#timeline li[data-step-id="${stepId}"]`);
      expect(await step('2.0').getAttribute('data-kind')).toBe('resume');
      expect(await step('2.0').locator('[data-role="resume-summary"]').textContent()).toBe(
        'Attempt 2 resumed from step 1.3 · 2 model calls answered from the journal · 1 tool call not run again',
      );

      // A model call's reply: its text, and the tools it called by name.
      expect(await step('1.0').locator('pre.reply').textContent()).toBe(
        'Let me look the order up first.',
      );
      expect(await step('1.0').locator('[data-role="tool-calls"]').textContent()).toBe(
        'Calls lookup_order',
      );
      expect(await step('1.2').locator('pre.reply').count()).toBe(0);
      expect(await step('1.2').locator('[data-role="tool-calls"]').textContent()).toBe(
        'Calls send_email',
      );
      expect(await step('2.2').locator('pre.reply').textContent()).toBe(RESUMED_ANSWER);

      // A tool call's result, cut on the page and said to be cut in the journal.
      const result = (await step('1.1').locator('pre.result').textContent()) ?? '';
      expect(result.startsWith('y'.repeat(4000) + '…')).toBe(true);
      expect(result.slice(4000)).toBe('… (6,000 more characters)');
      expect(await step('1.1').locator('[data-role="result-cut"]').textContent()).toBe(
        'Cut when stored: 60 of 5,000 characters kept.',
      );
      expect(await step('1.1').locator('.facts').textContent()).toContain('success · idempotent');

      // Where the process died, and the call the resumed run did not run again.
      expect(await step('1.3').getAttribute('class')).toContain('bad');
      expect(await step('1.3').locator('.facts').textContent()).toContain('never finished');
      const unknown = step('2.1');
      expect(await unknown.getAttribute('data-outcome')).toBe('unknown_outcome');
      expect(await unknown.locator('[data-role="outcome"]').textContent()).toBe(
        'not run again: outcome unknown',
      );
      expect(await unknown.locator('.error').textContent()).toBe(UNKNOWN_OUTCOME_MESSAGE);
      expect(await unknown.locator('pre.result').count()).toBe(0);
      expect(await unknown.locator('pre.arguments').textContent()).toContain('buyer@example.com');

      // The event log says the same in its own words.
      const summary = (type: string) =>
        page.locator(`#run-events li[data-event-type="${type}"] .summary`).allTextContents();
      await eventually(() => summary('background_task_resumed')).toEqual([
        'attempt 2 resumed from step 1.3: 2 model calls answered from the journal, 1 tool call not run again',
      ]);
      expect(await summary('tool_call_error')).toEqual([
        'send_email: not run again: outcome unknown',
      ]);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({
        path: resolve(ARTIFACTS, 'dashboard-run-resumed.png'),
        fullPage: true,
      });
      expect(problems).toEqual([]);
      await page.close();
    });
  });
});
