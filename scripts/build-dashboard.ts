/**
 * The dashboard half of `npm run build`: bundles each page's browser script and writes it
 * where the built server reads it, `<outDir>/server/dashboard/browser/<page>.js` (outDir:
 * the first argument, default dist).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bundleDashboardScripts } from '../src/server/dashboard/bundle-dashboard-scripts.js';
import { DASHBOARD_PAGES } from '../src/server/dashboard/dashboard-scripts.js';

const outDir = resolve(process.argv[2] ?? 'dist');
const directory = join(outDir, 'server', 'dashboard', 'browser');
await mkdir(directory, { recursive: true });
const scripts = await bundleDashboardScripts(DASHBOARD_PAGES);
for (const [page, text] of Object.entries(scripts)) {
  await writeFile(join(directory, `${page}.js`), text);
}
console.log(`dashboard scripts written to ${directory}`);
