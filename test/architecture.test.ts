import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkArchitecture } from '../scripts/check-architecture.js';

const trees: string[] = [];

/** A fake project holding `files` (paths under it, `src/…` or `test/…`); returns its `src`. */
function tree(files: Record<string, string>): string {
  const project = mkdtempSync(join(tmpdir(), 'nightshift-architecture-'));
  trees.push(project);
  const base: Record<string, string> = {
    'src/errors.ts': 'export class NightshiftError extends Error {}\n',
    'src/index.ts': "export * from './service/index.js';\n",
    'src/shared/backoff.ts':
      "import { NightshiftError } from '../errors.js';\nexport { NightshiftError };\n",
    'src/schedule/index.ts': 'export const schedule = 1;\n',
    'src/config/agent-definition.ts':
      "import { schedule } from '../schedule/index.js';\nexport const config = schedule;\n",
    'src/service/index.ts': "export { runs } from './run-executor.js';\n",
    'src/service/run-executor.ts':
      "import { config } from '../config/agent-definition.js';\nexport const runs = config;\n",
    'src/agent/run-agent.ts':
      "import { generateText } from 'ai';\nexport const run = generateText;\n",
    'src/cli/main.ts': "import { runs } from '../service/index.js';\nexport const main = runs;\n",
  };
  for (const [path, text] of Object.entries({ ...base, ...files })) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }
  return join(project, 'src');
}

afterEach(() => {
  for (const project of trees.splice(0)) rmSync(project, { recursive: true, force: true });
});

describe('the architecture check', () => {
  it('passes the real source, and a small tree that keeps every rule', () => {
    expect(checkArchitecture(resolve(import.meta.dirname, '..', 'src'))).toEqual([]);
    expect(checkArchitecture(tree({}))).toEqual([]);
  });

  it('fails a lower part that imports a higher one, and shared/ importing any part', () => {
    const root = tree({
      'src/config/uses-service.ts':
        "import { runs } from '../service/index.js';\nexport { runs };\n",
      'src/shared/uses-config.ts':
        "import { config } from '../config/agent-definition.js';\nexport { config };\n",
    });
    expect(checkArchitecture(root)).toEqual([
      'config/uses-service.ts imports service/index.ts: config/ may not depend on service/',
      'shared/uses-config.ts imports config/agent-definition.ts: shared/ may not depend on config/',
    ]);
  });

  it("fails the CLI or the server reaching past the service's public face", () => {
    const root = tree({
      'src/cli/deep.ts': "import { runs } from '../service/run-executor.js';\nexport { runs };\n",
    });
    expect(checkArchitecture(root)).toEqual([
      'cli/deep.ts imports service/run-executor.ts: use service/ through service/index.ts or service/bullmq/index.ts',
    ]);
  });

  it("fails agent/ using a provider's test model or anything under test/", () => {
    const root = tree({
      'src/agent/mock.ts':
        "import { MockLanguageModelV3 } from 'ai/test';\nexport const model = new MockLanguageModelV3();\n",
      'src/agent/fixture.ts':
        "import { fixture } from '../../test/fixtures.js';\nexport { fixture };\n",
      'test/fixtures.ts': 'export const fixture = 1;\n',
    });
    expect(checkArchitecture(root).sort()).toEqual([
      'agent/fixture.ts imports test/fixtures.ts: agent/ never imports tests',
      'agent/mock.ts imports ai/test: agent/ never uses a test model',
      'agent/mock.ts names MockLanguageModelV3: agent/ never uses a test model',
    ]);
  });

  it('fails an import cycle', () => {
    const root = tree({
      'src/config/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'src/config/b.ts': "import { a } from './a.js';\nexport const b = a;\n",
    });
    expect(checkArchitecture(root)).toEqual([
      'import cycle: config/a.ts → config/b.ts → config/a.ts',
    ]);
  });
});
