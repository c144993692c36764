/**
 * Fails when the source has an import cycle, or when a lower part imports a higher one
 * (DESIGN.md: schedule/ and storage/ know nothing of agents; server/ and cli/ only use the service).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..', 'src');
/** Each part may import only the parts listed after it (and itself). */
const allowed: Record<string, string[]> = {
  schedule: [],
  config: ['schedule'],
  storage: ['config', 'schedule'],
  tools: ['config'],
  agent: ['config', 'storage', 'tools'],
  service: ['agent', 'config', 'schedule', 'storage', 'tools'],
  server: ['service', 'config', 'storage'],
  cli: ['service', 'server', 'config', 'storage', 'schedule', 'tools', 'agent'],
};
const shared = new Set(['errors.ts', 'index.ts']);

function files(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function partOf(path: string): string {
  return relative(root, path).split('/')[0] ?? '';
}

const graph = new Map<string, string[]>();
const problems: string[] = [];
for (const file of files(root)) {
  const imports = ts
    .preProcessFile(readFileSync(file, 'utf8'), true, true)
    .importedFiles.map((reference) => reference.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')));
  graph.set(file, imports);
  const from = partOf(file);
  if (shared.has(from)) continue;
  for (const target of imports) {
    const to = partOf(target);
    if (to === from || shared.has(to)) continue;
    if (!(allowed[from] ?? []).includes(to)) {
      problems.push(
        `${relative(root, file)} imports ${relative(root, target)}: ${from}/ may not depend on ${to}/`,
      );
    }
  }
}

const state = new Map<string, 'visiting' | 'done'>();
function visit(file: string, trail: string[]): void {
  if (state.get(file) === 'done') return;
  if (state.get(file) === 'visiting') {
    const cycle = trail
      .slice(trail.indexOf(file))
      .concat(file)
      .map((path) => relative(root, path));
    problems.push(`import cycle: ${cycle.join(' → ')}`);
    return;
  }
  state.set(file, 'visiting');
  for (const target of graph.get(file) ?? [])
    if (graph.has(target)) visit(target, [...trail, file]);
  state.set(file, 'done');
}
for (const file of graph.keys()) visit(file, []);

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`architecture: ${graph.size} files, no cycles, parts depend only downward`);
