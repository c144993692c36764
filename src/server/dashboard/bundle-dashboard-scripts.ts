import { fileURLToPath } from 'node:url';

/**
 * Bundles each page's browser script (`browser/<page>.ts` and what it imports) into one
 * classic script, as the page embeds it. Used by the build (`scripts/build-dashboard.ts`) and,
 * run from source, by the server itself; esbuild is a development dependency, loaded only here.
 */
export async function bundleDashboardScripts<Page extends string>(
  pages: readonly Page[],
): Promise<Record<Page, string>> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: Object.fromEntries(
      pages.map((page) => [page, fileURLToPath(new URL(`./browser/${page}.ts`, import.meta.url))]),
    ),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    charset: 'utf8',
    legalComments: 'none',
    // esbuild needs a directory to name the outputs by, even when it writes nothing.
    outdir: fileURLToPath(new URL('./browser/', import.meta.url)),
    write: false,
    logLevel: 'silent',
  });
  const byName = new Map(
    result.outputFiles.map((file) => [
      file.path.replace(/^.*[\\/]/, '').replace(/\.js$/, ''),
      file.text,
    ]),
  );
  return Object.fromEntries(
    pages.map((page) => {
      const text = byName.get(page);
      if (text === undefined) throw new Error(`esbuild wrote no bundle for ${page}`);
      return [page, text];
    }),
  ) as Record<Page, string>;
}
