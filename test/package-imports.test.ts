import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INDEX = new URL('../src/index.ts', import.meta.url).href;

/**
 * The optional dependencies a process must not load until it uses them: drivers, SDKs and
 * hosted providers that cost every process tens of MB (issue #18's idle-memory goal).
 */
const HEAVY = [
  'ioredis',
  'bullmq',
  'pg',
  '@modelcontextprotocol/sdk',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/resources',
  '@opentelemetry/context-async-hooks',
  '@ai-sdk/openai',
  '@ai-sdk/anthropic',
  '@ai-sdk/google',
  '@ai-sdk/openai-compatible',
  'html-to-text',
  'fast-xml-parser',
  'better-sqlite3',
];

/**
 * Records every package an ES module import resolves to (the hook runs on the loader's thread,
 * so it reports on stderr). Packages loaded with `require` do not pass through it: the child
 * also lists the CommonJS module cache at the end.
 */
const HOOK = `
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  process.stderr.write('LOADED ' + resolved.url + '\\n');
  return resolved;
}`;

/** The packages the child loaded, by name, from the files it loaded. */
function packagesIn(output: string): Set<string> {
  const names = new Set<string>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('LOADED ')) continue;
    const match = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    if (match) names.add(match[1]!);
  }
  return names;
}

/** Runs `body` (ES module code, `nightshift` being the package) in a fresh node, under tsx. */
async function loadedBy(body: string): Promise<Set<string>> {
  const script = `
import { register, createRequire } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));
const nightshift = await import(${JSON.stringify(INDEX)});
${body}
for (const file of Object.keys(createRequire(import.meta.url).cache)) {
  process.stderr.write('LOADED file://' + file + '\\n');
}
`;
  const { stderr } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', script],
    { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 64 * 1024 * 1024 },
  );
  return packagesIn(stderr);
}

describe('importing the package', () => {
  it('loads none of the optional dependencies', async () => {
    const loaded = await loadedBy('');
    // The hook sees what is loaded: the package's own dependencies are there.
    expect(loaded).toContain('zod');
    expect(HEAVY.filter((name) => loaded.has(name))).toEqual([]);
  }, 60_000);

  it('loads none of them for an in-memory service that runs an agent on a registered provider', async () => {
    const loaded = await loadedBy(`
const { BackgroundAgentService, EventRouter, MemoryRouter, ScriptedLanguageModel } = nightshift;
const service = new BackgroundAgentService(
  new MemoryRouter('in_memory'),
  new EventRouter('in_memory'),
  { providers: { house: () => new ScriptedLanguageModel([{ answer: 'done' }], 'm') }, env: {} },
);
await service.startManager();
await service.create({
  agent_id: 'quiet',
  interval: 3600,
  model_config: { provider: 'house', model: 'm' },
  task_config: { query: 'Say done.' },
});
const run = await service.runNow('quiet', { wait: true });
if (run.status !== 'completed') throw new Error('the run ended ' + run.status);
await service.shutdown();
`);
    expect(loaded).toContain('ai');
    expect(HEAVY.filter((name) => loaded.has(name))).toEqual([]);
  }, 60_000);
});
