import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { AgentStatus, WorkerInfo } from '../../src/index.js';
import type { AgentView, WorkerView } from '../../src/server/dashboard/browser/api-types.js';
import {
  DASHBOARD_PAGES,
  type DashboardScripts,
} from '../../src/server/dashboard/dashboard-scripts.js';
import { startTestServer } from './server-fixtures.js';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

describe('dashboard scripts', () => {
  let outDir: string;
  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'nightshift-dashboard-build-'));
  });
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('are bundled by the build next to the built server, which serves them from there', async () => {
    // The dashboard half of `npm run build`, into a private outDir.
    await run(process.execPath, ['--import', 'tsx', 'scripts/build-dashboard.ts', outDir], {
      cwd: ROOT,
    });
    const built = join(outDir, 'server', 'dashboard');
    for (const page of DASHBOARD_PAGES) {
      const text = await readFile(join(built, 'browser', `${page}.js`), 'utf8');
      // One classic script: nothing left to import, so it runs inline under the nonce.
      expect(text).not.toMatch(/^\s*(import|export)\s/m);
      expect(text).toContain('nightshift-token');
    }
    // The loader as tsc emits it into dist/: it reads the bundles beside it.
    await build({
      entryPoints: [join(ROOT, 'src/server/dashboard/dashboard-scripts.ts')],
      outfile: join(built, 'dashboard-scripts.js'),
      format: 'esm',
      platform: 'node',
      logLevel: 'silent',
    });
    const loader = (await import(pathToFileURL(join(built, 'dashboard-scripts.js')).href)) as {
      dashboardScripts(): Promise<DashboardScripts>;
    };
    const scripts = await loader.dashboardScripts();
    for (const page of DASHBOARD_PAGES) {
      expect(scripts[page]).toBe(await readFile(join(built, 'browser', `${page}.js`), 'utf8'));
    }
  });

  it('are embedded in each page under its nonce, with the vocabulary as data', async () => {
    const { url } = await startTestServer();
    for (const path of ['/', '/agents/disk_check', '/runs/some_run']) {
      const answer = await fetch(url + path);
      const page = await answer.text();
      const nonce = /<script nonce="([^"]+)">/.exec(page)?.[1];
      expect(answer.headers.get('content-security-policy')).toContain(`'nonce-${nonce}'`);
      expect(page).toContain('nightshift-token');
      const vocabulary = /<script type="application\/json" id="dashboard-vocabulary">([^<]*)</.exec(
        page,
      )?.[1];
      expect(JSON.parse(vocabulary ?? 'null')).toMatchObject({
        runStatuses: { timed_out: { label: 'timed out', failed: true, terminal: true } },
        agentStates: { invalid: { label: 'invalid' } },
        eventTypes: { tool_call_error: { bad: true }, final_answer: { bad: false } },
      });
    }
  });

  it('read the API shapes the server sends', () => {
    expectTypeOf<AgentStatus>().toExtend<AgentView>();
    expectTypeOf<WorkerInfo>().toExtend<WorkerView>();
  });
});
