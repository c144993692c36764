/**
 * Fails when the declaration files Nightshift ships (`dist/**\/*.d.ts`) do not type-check with
 * `skipLibCheck: false`, as a user's strict project would read them. Run after `npm run build`.
 * Errors inside other packages' own declarations (the AI SDK's, Hono's) are theirs, not ours, and
 * are not counted.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
if (!existsSync(join(dist, 'index.d.ts'))) {
  console.error('check-declarations: dist/index.d.ts is missing; run `npm run build` first');
  process.exit(1);
}

// A consumer project of its own, importing the package by name as a user's code does.
const consumer = mkdtempSync(join(tmpdir(), 'nightshift-declarations-'));
try {
  const modules = join(consumer, 'node_modules');
  symlinkSync(join(root, 'node_modules'), modules, 'dir');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ type: 'module' }));
  const entry = join(consumer, 'consumer.ts');
  writeFileSync(
    entry,
    [
      `import { BackgroundAgentService, EventRouter, MemoryRouter } from ${JSON.stringify(join(dist, 'index.js'))};`,
      `const service = new BackgroundAgentService(new MemoryRouter('in_memory'), new EventRouter('in_memory'));`,
      `await service.create({ agent_id: 'a', interval: 60, model_config: { provider: 'openai', model: 'gpt-4o-mini' }, task_config: { query: 'q' } });`,
      `export {};`,
    ].join('\n'),
  );
  const program = ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
  });
  const ours = ts
    .getPreEmitDiagnostics(program)
    .filter(
      (diagnostic) => !diagnostic.file || !diagnostic.file.fileName.includes('/node_modules/'),
    );
  for (const diagnostic of ours) {
    const where = diagnostic.file
      ? `${diagnostic.file.fileName}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}: `
      : '';
    console.error(`${where}${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
  }
  if (ours.length > 0) {
    console.error(`check-declarations: ${ours.length} problem(s) in the shipped declarations`);
    process.exitCode = 1;
  } else {
    console.log('check-declarations: the shipped declarations type-check with skipLibCheck: false');
  }
} finally {
  rmSync(consumer, { recursive: true, force: true });
}
