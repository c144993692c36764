/**
 * A plain-JavaScript copy of the code a benchmark runs, for measuring without tsx.
 *
 * tsx transforms with esbuild's `keepNames`, which wraps every named function in
 * `__name(fn, "name")` — an `Object.defineProperty` per closure *instance*, so each closure
 * the code creates costs time and a property array it would not cost as shipped (tsc output),
 * and the loader adds a thread of its own to RSS. Suites measure both ways.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
/** Folders (and files) a benchmark child may import. */
const SOURCES = ['src', 'bench', 'test/agent/mock-model.ts'];

let built: Promise<string> | undefined;

function typeScriptFiles(path: string): string[] {
  if (path.endsWith('.ts')) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => {
    const child = join(path, entry.name);
    if (entry.isDirectory()) return typeScriptFiles(child);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [child] : [];
  });
}

/**
 * Transpiles the sources (no type check) into a temporary folder once per process; returns its
 * root. TypeScript is loaded only here, so a child that imports this module does not carry it.
 */
export function buildCompiled(): Promise<string> {
  built ??= transpileAll();
  return built;
}

async function transpileAll(): Promise<string> {
  const { default: ts } = await import('typescript');
  const root = join(tmpdir(), `nightshift-bench-js-${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  for (const file of SOURCES.flatMap((source) => typeScriptFiles(join(repositoryRoot, source)))) {
    const output = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2023,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: true,
      },
    }).outputText;
    const target = join(root, relative(repositoryRoot, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, output);
  }
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(repositoryRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** The path of a module's compiled copy under `root`. */
export function compiledPath(root: string, moduleUrl: string): string {
  return join(root, relative(repositoryRoot, fileURLToPath(moduleUrl)).replace(/\.ts$/, '.js'));
}
