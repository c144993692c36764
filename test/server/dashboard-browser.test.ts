import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  parseAgentDefinition,
  spendPeriodOf,
  type AgentStats,
  type RunRecord,
} from '../../src/index.js';
import {
  ARTIFACTS,
  eventually,
  launchChromium,
  skipBrowser,
  watchedPage,
} from './chromium-fixture.js';
import { onCleanup, scriptedAgent, startTestServer, TEST_TOKEN } from './server-fixtures.js';
import { storedAgentRecord } from '../helpers/stored-agent-record.js';

/**
 * A fleet with hours of history: a service whose clock runs minutes or hours behind while a
 * run is made (`runAgo`), a monitor calling a tool, an archiver that always fails, a digest,
 * and an agent stored as an older version may have left it, which cannot run (`invalid`).
 */
async function fleetWithHistory() {
  let offset = 0;
  const memory = new MemoryRouter('in_memory');
  await (
    await memory.connect()
  ).agents.insert(
    storedAgentRecord('broken', {
      ...parseAgentDefinition(scriptedAgent('broken')),
      interval: 0.0001,
    }),
  );
  const service = new BackgroundAgentService(memory, new EventRouter('in_memory'), {
    now: () => new Date(Date.now() + offset),
  });
  await service.startManager();
  onCleanup(() => service.shutdown({ timeout: 1000 }));
  await service.create(
    scriptedAgent('disk_monitor', {
      interval: 300,
      tools: ['system_stats'],
      model_config: {
        provider: 'scripted',
        script: [
          { tool: 'system_stats', args: { cpu_sample_ms: 50 } },
          { answer: 'All disks have room.' },
        ],
      },
    }),
  );
  await service.create(
    scriptedAgent('archiver', {
      model_config: { provider: 'scripted', script: [{ fail: 'upstream returned 503' }] },
    }),
  );
  await service.create(scriptedAgent('news_digest'));
  const runAgo = async (agentId: string, minutes: number): Promise<RunRecord> => {
    offset = -minutes * 60_000;
    try {
      return await service.runNow(agentId, { wait: true });
    } finally {
      offset = 0;
    }
  };
  return { service, runAgo };
}

describe('dashboard in a real browser', () => {
  // In CI a missing Chromium is not skipped: launching it fails the suite.
  describe.skipIf(skipBrowser)('with Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
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

      const { page, problems } = await watchedPage(browser);

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

      // With the in-process scheduler there are no workers, and the panel says why.
      expect(await page.locator('#workers [data-role="no-workers"]').textContent()).toContain(
        'in-process scheduler',
      );

      await row('disk_monitor').getByRole('link', { name: 'disk_monitor' }).click();
      await page.waitForURL(`${url}/agents/disk_monitor`);
      await eventually(() => page.locator('#agent-state [data-role="state"]').textContent()).toBe(
        'active',
      );
      await page.locator('#run-chart svg polyline.duration').waitFor();
      expect(await page.locator('#run-chart svg .tick-y').count()).toBeGreaterThanOrEqual(2);
      expect(await page.locator('#run-chart svg .tick-x').count()).toBe(3);
      // The live log starts with the recent history: the three runs made before the page opened.
      const completed = page.locator('#event-log li[data-event-type="background_task_completed"]');
      await eventually(() => completed.count()).toBe(3);
      await page.locator('#live.on').waitFor();
      await page.locator('#agent-actions button[data-action="run"]').click();
      await eventually(() => completed.count()).toBe(4);
      expect(await page.locator('#event-log li[data-event-type="tool_call_result"]').count()).toBe(
        4,
      );
      await eventually(() => page.locator('#run-rows tr[data-run-id]').count()).toBe(4);
      const newestRow = page.locator('#run-rows tr[data-run-id]').first();
      await eventually(() => newestRow.locator('[data-role="status"]').textContent()).toBe(
        'completed',
      );
      expect(await page.locator('#definition').textContent()).toContain(
        '"agent_id": "disk_monitor"',
      );
      // A payload opens on click, and each event links to its run.
      const newestCompleted = completed.first();
      await newestCompleted.locator('summary .summary').click();
      await eventually(() => newestCompleted.locator('pre.payload').textContent()).toContain(
        '"duration_ms"',
      );
      const newestRunId = await newestRow.getAttribute('data-run-id');
      expect(await newestCompleted.locator('a.run-link').getAttribute('href')).toBe(
        `/runs/${encodeURIComponent(newestRunId ?? '')}`,
      );
      await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-agent.png'), fullPage: true });

      // The run page, from the runs table.
      await newestRow.locator('a[data-role="run-link"]').click();
      await page.waitForURL(`${url}/runs/${encodeURIComponent(newestRunId ?? '')}`);
      await page.locator('#run[data-loaded="true"]').waitFor();
      expect(await page.locator('#run-status [data-role="status"]').textContent()).toBe(
        'completed',
      );
      expect(await page.locator('#run-cards [data-role="tokens"] .value').textContent()).toBe(
        '375',
      );
      expect(await page.locator('#run-cards [data-role="cost"] .value').textContent()).toBe('—');
      expect(await page.locator('#attempt-rows tr[data-attempt]').count()).toBe(1);
      expect(await page.locator('#timeline li[data-kind="model_call"]').count()).toBe(2);
      const tool = page.locator('#timeline li[data-kind="tool_call"]');
      expect(await tool.locator('pre.arguments').textContent()).toContain('top_processes');
      expect(await tool.locator('pre.result').textContent()).toContain('memory');
      expect(await tool.getAttribute('data-outcome')).toBe('success');
      expect(
        await page
          .locator('#timeline li[data-step-id="1.0"] [data-role="tool-calls"]')
          .textContent(),
      ).toBe('Calls system_stats');
      expect(await page.locator('#timeline pre.reply').textContent()).toMatch(
        /^Memory at [\d.]+%$/,
      );
      expect(await page.locator('#run-events li[data-event-id]').count()).toBe(6);
      expect(await page.locator('span#next-run.disabled').count()).toBe(1);
      await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-run.png'), fullPage: true });
      await page.locator('a#previous-run').click();
      await page.waitForURL(
        (address) => address.pathname !== `/runs/${encodeURIComponent(newestRunId ?? '')}`,
      );
      await page.locator('a#next-run').waitFor();
      expect(await page.locator('a#next-run').getAttribute('href')).toBe(
        `/runs/${encodeURIComponent(newestRunId ?? '')}`,
      );

      expect(problems).toEqual([]);
      await page.close();
    });

    it('shows the fleet overview: runs by status over hours, failures, an invalid agent, workers; failed runs on the agent and run pages', async () => {
      const { service, runAgo } = await fleetWithHistory();
      const { url } = await startTestServer({ token: '' }, service);
      const runs: Record<string, RunRecord[]> = { disk_monitor: [], archiver: [], news_digest: [] };
      for (const minutes of [170, 140, 110, 80, 50, 25, 10, 2]) {
        runs.disk_monitor?.push(await runAgo('disk_monitor', minutes));
      }
      for (const minutes of [125, 65, 15]) runs.archiver?.push(await runAgo('archiver', minutes));
      for (const minutes of [160, 100, 40]) {
        runs.news_digest?.push(await runAgo('news_digest', minutes));
      }
      await service.startAgent('disk_monitor');
      const started = new Date(Date.now() - 2 * 3_600_000).toISOString();
      const running = runs.disk_monitor?.at(-1)?.run_id ?? '';
      vi.spyOn(service, 'listWorkers').mockResolvedValue([
        {
          worker_id: 'box-1:4242:a1b2c3',
          host: 'box-1',
          pid: 4242,
          started_at: started,
          last_heartbeat: new Date().toISOString(),
          running_runs: [running],
        },
      ]);

      const { page, problems } = await watchedPage(browser);
      await page.goto(url);
      await page.locator('#overview[data-generated-at]').waitFor();
      const cards = page.locator('#overview-cards');
      expect(await cards.locator('[data-role="agents"] .value').textContent()).toBe('4');
      expect(await cards.locator('[data-state="invalid"]').textContent()).toContain('1');
      expect(await cards.locator('[data-role="runs-total"] .value').textContent()).toBe('14');
      expect(await cards.locator('[data-role="failures"] .value').textContent()).toBe('3');
      // Scripted models are free: nothing spent.
      expect(await cards.locator('[data-role="spend-today"] .value').textContent()).toBe('$0.00');
      expect(await page.locator('#invalid-agents').textContent()).toContain('broken');
      expect(await page.locator('#runs-chart svg rect.bar-failed').count()).toBe(3);
      expect(await page.locator('#runs-chart svg rect.bar-completed').count()).toBe(11);
      expect(await page.locator('#runs-chart svg .tick-x').count()).toBeGreaterThanOrEqual(3);
      expect(await page.locator('#runs-chart svg .tick-y').count()).toBeGreaterThanOrEqual(2);
      expect(await page.locator('#runs-chart .axis-title').allTextContents()).toContain(
        'runs per minute',
      );
      const failureCounts = await page
        .locator('#failures-chart svg text.bar-count')
        .allTextContents();
      expect(failureCounts.reduce((sum, count) => sum + Number(count), 0)).toBe(3);
      const failures = page.locator('#recent-failures li[data-run-id]');
      expect(await failures.count()).toBe(3);
      expect(await failures.first().getAttribute('data-run-id')).toBe(
        runs.archiver?.at(-1)?.run_id,
      );
      const worker = page.locator('#worker-table tr[data-worker-id="box-1:4242:a1b2c3"]');
      expect(await worker.locator('td').nth(1).textContent()).toBe('box-1');
      expect(await worker.locator('[data-role="running-runs"] a').getAttribute('href')).toBe(
        `/runs/${encodeURIComponent(running)}`,
      );
      const broken = page.locator('tr[data-agent-id="broken"]');
      await broken.locator('[data-role="invalid-reason"]').waitFor();
      expect(await broken.locator('[data-role="state"]').textContent()).toBe('invalid');
      await page.screenshot({
        path: resolve(ARTIFACTS, 'dashboard-fleet-overview.png'),
        fullPage: true,
      });

      // A wider window: the bars grow to two minutes.
      await page.locator('#overview-hours').selectOption('6');
      await eventually(() => page.locator('#runs-chart .axis-title').allTextContents()).toContain(
        'runs per 2 min',
      );

      await page
        .locator('tr[data-agent-id="archiver"]')
        .getByRole('link', { name: 'archiver' })
        .click();
      await page.waitForURL(`${url}/agents/archiver`);
      await page.locator('#run-chart svg').waitFor();
      expect(await page.locator('#run-chart svg circle.dot-failed').count()).toBe(3);
      expect(await page.locator('#run-chart .legend').textContent()).toContain('3 failed');
      await page.screenshot({
        path: resolve(ARTIFACTS, 'dashboard-agent-failures.png'),
        fullPage: true,
      });

      await page
        .locator('#run-rows tr[data-run-id]')
        .first()
        .locator('a[data-role="run-link"]')
        .click();
      await page.locator('#run[data-loaded="true"]').waitFor();
      expect(await page.locator('[data-role="run-error"]').textContent()).toBe(
        'model_error: upstream returned 503',
      );
      expect(await page.locator('#timeline li.bad').count()).toBeGreaterThanOrEqual(1);
      expect(await page.locator('a#previous-run').getAttribute('href')).toBe(
        `/runs/${encodeURIComponent(runs.archiver?.[1]?.run_id ?? '')}`,
      );
      await page.screenshot({
        path: resolve(ARTIFACTS, 'dashboard-run-failed.png'),
        fullPage: true,
      });

      expect(problems).toEqual([]);
      await page.close();
    });

    it("shows what agents spent today and this month, the fleet's spend today, and a run's cost", async () => {
      // Records with costs written straight into the store, as priced runs leave them.
      const memory = new MemoryRouter('in_memory');
      const store = await memory.connect();
      const now = new Date();
      const { day, month } = spendPeriodOf(now);
      const at = now.toISOString();
      const agent = (agentId: string, stats: Partial<AgentStats>) => ({
        ...storedAgentRecord(agentId, parseAgentDefinition(scriptedAgent(agentId))),
        state: 'created' as const,
        stats: { ...storedAgentRecord(agentId, {}).stats, run_count: 1, ...stats },
      });
      await store.agents.insert(
        agent('digest', {
          last_run_at: at,
          last_run_status: 'completed',
          total_tokens: 901,
          cost_total_usd: 1.5,
          cost_day: { day, usd: 0.0123 },
          cost_month: { month, usd: 0.75 },
        }),
      );
      // Spent long ago only: nothing today or this month.
      await store.agents.insert(
        agent('archiver', {
          cost_total_usd: 0.5,
          cost_day: { day: '2000-01-01', usd: 0.5 },
          cost_month: { month: '2000-01', usd: 0.5 },
        }),
      );
      const used = {
        requests: 1,
        input_tokens: 800,
        output_tokens: 101,
        total_tokens: 901,
        cost_usd: 0.0123,
      };
      const run: RunRecord = {
        run_id: 'digest.manual-priced',
        agent_id: 'digest',
        trigger: 'manual',
        scheduled_at: at,
        created_at: at,
        started_at: at,
        ended_at: at,
        status: 'completed',
        query: 'Summarise the news.',
        attempts: [
          {
            attempt: 1,
            started_at: at,
            ended_at: at,
            status: 'completed',
            error: null,
            usage: used,
          },
        ],
        output: 'done',
        output_json: null,
        error: null,
        usage: used,
        skip_reason: null,
        lease_owner: null,
        lease_expires_at: null,
      };
      await store.runs.claim(run);
      await store.runs.appendStep({
        run_id: run.run_id,
        step_id: '1.0',
        attempt: 1,
        index: 0,
        kind: 'model_call',
        state: 'completed',
        started_at: at,
        ended_at: at,
        usage: used,
        finish_reason: 'stop',
        reply: { text: 'done', tool_calls: [], finish_reason: 'stop' },
      });
      const service = new BackgroundAgentService(memory, new EventRouter('in_memory'));
      await service.startManager();
      onCleanup(() => service.shutdown({ timeout: 1000 }));
      const { url } = await startTestServer({ token: '' }, service);

      const { page, problems } = await watchedPage(browser);
      await page.goto(url);
      await page.locator('#overview[data-generated-at]').waitFor();
      expect(
        await page.locator('#overview-cards [data-role="spend-today"] .value').textContent(),
      ).toBe('$0.0123');
      const row = (agentId: string) => page.locator(`tr[data-agent-id="${agentId}"]`);
      await row('digest').waitFor();
      expect(await row('digest').locator('[data-role="cost-today"]').textContent()).toBe('$0.0123');
      expect(await row('digest').locator('[data-role="cost-month"]').textContent()).toBe('$0.75');
      expect(await row('archiver').locator('[data-role="cost-today"]').textContent()).toBe('$0.00');
      expect(await row('archiver').locator('[data-role="cost-month"]').textContent()).toBe('$0.00');
      await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-spend.png'), fullPage: true });

      await row('digest').getByRole('link', { name: 'digest' }).click();
      await page.waitForURL(`${url}/agents/digest`);
      const cards = page.locator('#agent-cards');
      await eventually(() => cards.locator('[data-role="cost-today"] .value').textContent()).toBe(
        '$0.0123',
      );
      expect(await cards.locator('[data-role="cost-month"] .value').textContent()).toBe('$0.75');
      expect(await cards.locator('[data-role="cost-month"] .note').textContent()).toBe(
        '$1.50 in all',
      );
      const runRow = page.locator(`#run-rows tr[data-run-id="${run.run_id}"]`);
      expect(await runRow.locator('[data-role="cost"]').textContent()).toBe('$0.0123');

      await runRow.locator('a[data-role="run-link"]').click();
      await page.locator('#run[data-loaded="true"]').waitFor();
      expect(await page.locator('#run-cards [data-role="cost"] .value').textContent()).toBe(
        '$0.0123',
      );
      expect(await page.locator('#timeline li[data-step-id="1.0"] .facts').textContent()).toContain(
        '$0.0123',
      );
      await page.screenshot({
        path: resolve(ARTIFACTS, 'dashboard-run-cost.png'),
        fullPage: true,
      });
      expect(problems).toEqual([]);
      await page.close();
    });

    it('shows each budget as a bar: spent and held against the limit and grants, its window and reset', async () => {
      const service = new BackgroundAgentService(
        new MemoryRouter('in_memory'),
        new EventRouter('in_memory'),
        { budgets: { fleet: { per_month: { usd: 20 } } } },
      );
      await service.startManager();
      onCleanup(() => service.shutdown({ timeout: 1000 }));
      const { api, url } = await startTestServer({ token: '' }, service);
      await api(
        'POST',
        '/api/agents',
        scriptedAgent('archiver', {
          budget_config: { per_day: { requests: 10 } },
          model_config: {
            provider: 'scripted',
            pricing: { input_per_million: 1, output_per_million: 2 },
            script: [{ answer: 'archived', usage: { input_tokens: 1000, output_tokens: 100 } }],
          },
        }),
      );
      await api('POST', '/api/agents/archiver/run', { wait: true });
      const granted = await api('POST', '/api/budgets/grants', {
        scope: { agent_id: 'archiver' },
        window: 'per_day',
        requests: 5,
        by: 'alice',
        note: 'quarter end',
      });
      expect(granted.status).toBe(201);

      const { page, problems } = await watchedPage(browser);
      await page.goto(url);
      await page.locator('#budgets[data-loaded="true"]').waitFor();
      const agentBudget = page.locator(
        '#budgets .budget[data-scope="agent"][data-name="archiver"]',
      );
      expect(await agentBudget.getAttribute('data-window')).toBe('per_day');
      expect(await agentBudget.locator('[data-role="window"]').textContent()).toBe('per day');
      expect(await agentBudget.locator('[data-role="resets"]').textContent()).toMatch(
        /^resets in \d+ (s|min|h) \(/,
      );
      const requests = agentBudget.locator('.budget-bar[data-dimension="requests"]');
      expect(await requests.locator('[data-role="budget-figures"]').textContent()).toBe(
        '1 spent of 10 requests + 5 granted',
      );
      // 1 of the 15 the bar stands for (10 + 5 granted), the limit marked at 10 of 15.
      expect(Number(await requests.locator('rect[data-role="spent"]').getAttribute('width'))).toBe(
        6.67,
      );
      expect(Number(await requests.locator('rect[data-role="held"]').getAttribute('width'))).toBe(
        0,
      );
      expect(
        Number(await requests.locator('rect[data-role="limit-mark"]').getAttribute('x')),
      ).toBeCloseTo(66.27, 2);
      expect(await requests.getAttribute('class')).toBe('budget-bar');
      const fleet = page.locator('#budgets .budget[data-scope="fleet"]');
      expect(await fleet.locator('[data-role="window"]').textContent()).toBe('per month');
      expect(await fleet.locator('[data-role="budget-figures"]').textContent()).toBe(
        '$0.0012 spent of $20.00',
      );
      expect(await page.locator('#budgets [data-role="latest-grant"]').textContent()).toContain(
        'Latest grant: 5 requests to agent archiver per day, by alice (quarter end)',
      );

      // A run that ends reads the budgets again, with no reload.
      await api('POST', '/api/agents/archiver/run', { wait: true });
      await eventually(() => requests.locator('[data-role="budget-figures"]').textContent()).toBe(
        '2 spent of 10 requests + 5 granted',
      );
      await page.locator('#budgets-panel').screenshot({
        path: resolve(ARTIFACTS, 'dashboard-budgets.png'),
      });
      expect(problems).toEqual([]);
      await page.close();
    });

    it('follows a run in flight on its page until it ends, showing what it says as text', async () => {
      const { api, url } = await startTestServer({ token: '' });
      const hostile = '<img src=x id=injected>';
      await api(
        'POST',
        '/api/agents',
        scriptedAgent('slow_digest', {
          task_config: { query: `Summarise ${hostile}` },
          model_config: {
            provider: 'scripted',
            // Long enough that the page opens before the run ends, even on a busy machine.
            script: [{ delay: 2, answer: `Done: <b>${hostile}</b>` }],
          },
        }),
      );
      const { body: run } = await api('POST', '/api/agents/slow_digest/run');
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${url}/runs/${encodeURIComponent(run.run_id)}`);
      await page.locator('#run[data-loaded="true"]').waitFor();
      const status = page.locator('#run-status [data-role="status"]');
      expect(['pending', 'running']).toContain(await status.textContent());
      // The page hears the run's events and reloads itself: no refresh, no polling by the test.
      await eventually(() => status.textContent()).toBe('completed');
      expect(await page.locator('#run-outcome pre.output').textContent()).toBe(
        `Done: <b>${hostile}</b>`,
      );
      expect(await page.locator('#run-outcome pre.query').textContent()).toBe(
        `Summarise ${hostile}`,
      );
      expect(await page.locator('#injected, #run-outcome b').count()).toBe(0);
      expect(await page.locator('#timeline pre.reply').textContent()).toBe(
        `Done: <b>${hostile}</b>`,
      );
      expect(problems).toEqual([]);
      await page.close();
    });
  });
});
