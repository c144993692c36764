/**
 * Fails when the source breaks one of the rules of docs/architecture.md: a lower part imports a
 * higher one, a part reaches into another past its public face, `agent/` uses a test model, or
 * there is an import cycle. `tsx scripts/check-architecture.ts [source directory]` (default
 * `src/`); `test/architecture.test.ts` runs it against small trees that break each rule.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Each part may import only the parts listed after it (and itself, and `errors.ts`). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  shared: [],
  schedule: ['shared'],
  config: ['schedule', 'shared'],
  storage: ['config', 'schedule', 'shared'],
  tools: ['config', 'shared'],
  agent: ['config', 'storage', 'tools', 'shared'],
  service: ['agent', 'config', 'schedule', 'storage', 'tools', 'shared'],
  server: ['service', 'config', 'storage', 'shared'],
  cli: ['service', 'server', 'config', 'storage', 'schedule', 'tools', 'agent', 'shared'],
};

/**
 * Parts that others may use only through their public face: the files listed (relative to the
 * source directory). The server and the CLI drive the service through its public methods.
 * `storage/`, `config/` and `schedule/` are still imported file by file (their contracts and
 * schemas), so they have no face here yet.
 */
const FACES: Readonly<Record<string, readonly string[]>> = {
  service: ['service/index.ts', 'service/bullmq/index.ts'],
  server: ['server/index.ts'],
  agent: ['agent/index.ts'],
  tools: ['tools/index.ts', 'tools/mcp/index.ts'],
};

/**
 * Public types the service keeps in files that import no Node module, so that the dashboard's
 * browser program (which has no Node types) can read them; `service/index.ts` re-exports them.
 */
const TYPE_FACES: ReadonlySet<string> = new Set([
  'service/agent-status.ts',
  'service/worker-info.ts',
  'service/replay/replay-diff.ts',
]);

/** Top-level files: the error family every part may import, and the package's public index. */
const ERRORS_FILE = 'errors.ts';
const PUBLIC_INDEX = 'index.ts';

/** Modules that are a provider's test doubles: a run of an agent must never use one. */
const TEST_MODULES = /^(?:ai\/test|@ai-sdk\/provider-utils\/test)$/;
const TEST_MODEL = /\bMockLanguageModelV\d+\b/;

/** Every rule `root` (a source directory) breaks, one line each; empty when it keeps them all. */
export function checkArchitecture(root: string): string[] {
  const testDirectory = join(dirname(root), 'test') + sep;
  const name = (path: string) => relative(root, path).split(sep).join('/');
  const partOf = (path: string) => name(path).split('/')[0] ?? '';

  const graph = new Map<string, string[]>();
  const problems: string[] = [];
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const specifiers = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((reference) => reference.fileName);
    const imports = specifiers
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    graph.set(file, imports);
    const from = partOf(file);

    if (from === 'agent') {
      for (const specifier of specifiers.filter((specifier) => TEST_MODULES.test(specifier)))
        problems.push(`${name(file)} imports ${specifier}: agent/ never uses a test model`);
      for (const target of imports.filter((target) => target.startsWith(testDirectory)))
        problems.push(
          `${name(file)} imports ${relative(dirname(root), target)}: agent/ never imports tests`,
        );
      if (TEST_MODEL.test(text))
        problems.push(
          `${name(file)} names ${TEST_MODEL.exec(text)?.[0]}: agent/ never uses a test model`,
        );
    }

    if (from === PUBLIC_INDEX || from === ERRORS_FILE) continue;
    for (const target of imports) {
      if (!target.startsWith(root + sep)) continue;
      const to = partOf(target);
      if (to === from || to === ERRORS_FILE) continue;
      if (!(ALLOWED[from] ?? []).includes(to)) {
        problems.push(`${name(file)} imports ${name(target)}: ${from}/ may not depend on ${to}/`);
        continue;
      }
      const faces = FACES[to];
      if (faces !== undefined && !faces.includes(name(target)) && !TYPE_FACES.has(name(target))) {
        problems.push(
          `${name(file)} imports ${name(target)}: use ${to}/ through ${faces.join(' or ')}`,
        );
      }
    }
  }

  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (file: string, trail: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(file)), file].map(name);
      problems.push(`import cycle: ${cycle.join(' → ')}`);
      return;
    }
    state.set(file, 'visiting');
    for (const target of graph.get(file) ?? [])
      if (graph.has(target)) visit(target, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  return problems;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'src'));
  if (!existsSync(root)) {
    console.error(`architecture: no source directory at ${root}`);
    process.exit(2);
  }
  const problems = checkArchitecture(root);
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log(
    `architecture: parts depend only downward, through their faces; agent/ uses no test model; no cycles (${root})`,
  );
}
