import { readFile } from 'node:fs/promises';

/** The dashboard's pages; each runs one browser script, bundled from `browser/<page>.ts`. */
export const DASHBOARD_PAGES = ['fleet-page', 'agent-page', 'run-page', 'inbox-page'] as const;

/** One of the dashboard's pages. */
export type DashboardPage = (typeof DASHBOARD_PAGES)[number];

/** The bundled script of each page. */
export type DashboardScripts = Record<DashboardPage, string>;

/** Where `npm run build` writes the bundles: next to this module, in dist/. */
const BUILT_SCRIPTS = new URL('./browser/', import.meta.url);

let loading: Promise<DashboardScripts> | undefined;

/** Reads the bundles a build wrote into directory (`<page>.js` each). */
async function readBuiltScripts(directory: URL): Promise<DashboardScripts> {
  const texts = await Promise.all(
    DASHBOARD_PAGES.map((page) => readFile(new URL(`${page}.js`, directory), 'utf8')),
  );
  return Object.fromEntries(
    DASHBOARD_PAGES.map((page, index) => [page, texts[index] ?? '']),
  ) as DashboardScripts;
}

/**
 * The pages' scripts, loaded once per process: from the built package, the bundles the build
 * wrote next to this module; run from source (tsx, vitest), bundled from `browser/*.ts` now,
 * with esbuild (a development dependency, so the built package never needs it).
 */
export function dashboardScripts(): Promise<DashboardScripts> {
  loading ??= (
    import.meta.url.endsWith('.ts')
      ? import('./bundle-dashboard-scripts.js').then(({ bundleDashboardScripts }) =>
          bundleDashboardScripts(DASHBOARD_PAGES),
        )
      : readBuiltScripts(BUILT_SCRIPTS)
  ).catch((error: unknown) => {
    // A failed load is tried again by the next page rather than remembered.
    loading = undefined;
    throw error;
  });
  return loading;
}
