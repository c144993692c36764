import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNightshiftFile } from '../../src/config/load-config-file.js';
import { NightshiftError } from '../../src/errors.js';
import { runInProcess } from '../cli/in-process.js';

const SECRET = 'ghp_loaded_but_never_stored_5e1d';

/** A file whose agent declares a stdio and an HTTP MCP server with credentials in env and headers. */
const FILE = [
  'memory: { backend: in_memory }',
  'events: { backend: in_memory }',
  'agents:',
  '  - agent_id: reporter',
  '    interval: 300',
  '    model_config: { provider: scripted, script: [{ answer: done }] }',
  '    task_config: { query: "Report as ${REPORTER_NAME:-reporter}." }',
  '    mcp_tools:',
  '      - name: github',
  '        command: "${SERVER_BIN:-github-mcp}"',
  '        env:',
  '          GITHUB_TOKEN: "${SECRET_X}"',
  '          MODE: "${GITHUB_MODE:-read_only}"',
  '          PRICE: "$${NOT_A_VARIABLE}"',
  '      - name: tracker',
  '        transport_type: streamable_http',
  '        url: https://tracker.example/mcp',
  '        headers: { Authorization: "Bearer ${SECRET_X}" }',
].join('\n');

describe('MCP server env and headers in a Nightshift file', () => {
  const directories: string[] = [];

  function write(text: string): string {
    const directory = mkdtempSync(join(tmpdir(), 'nightshift-mcp-references-'));
    directories.push(directory);
    const path = join(directory, 'nightshift.yaml');
    writeFileSync(path, text);
    return path;
  }

  afterEach(() => {
    for (const directory of directories.splice(0))
      rmSync(directory, { recursive: true, force: true });
  });

  it('keeps the references as written, so the definition to store holds no secret', () => {
    const file = loadNightshiftFile(write(FILE), { env: { SECRET_X: SECRET } });
    const [github, tracker] = file.agents[0]?.mcp_tools ?? [];
    expect(github?.env).toEqual({
      GITHUB_TOKEN: '${SECRET_X}',
      MODE: '${GITHUB_MODE:-read_only}',
      PRICE: '$${NOT_A_VARIABLE}',
    });
    expect(tracker?.headers).toEqual({ Authorization: 'Bearer ${SECRET_X}' });
    expect(JSON.stringify([file.agents, file.agentInputs])).not.toContain(SECRET);
    // Every other field keeps its references too: they are read when the server connects.
    expect(github?.command).toBe('${SERVER_BIN:-github-mcp}');
    // The value is still known as a secret, for whatever prints or records this file's work.
    expect(file.secrets).toContain(SECRET);
  });

  it('still refuses a file whose MCP env or headers name an unset variable, by path', () => {
    let error: unknown;
    try {
      loadNightshiftFile(write(FILE), { env: {} });
    } catch (thrown) {
      error = thrown;
    }
    expect(NightshiftError.isInstance(error)).toBe(true);
    expect((error as NightshiftError).code).toBe('config_invalid');
    expect((error as NightshiftError).fields).toEqual([
      {
        path: 'agents[0].mcp_tools[0].env.GITHUB_TOKEN',
        message: 'environment variable SECRET_X is not set',
      },
      {
        path: 'agents[0].mcp_tools[1].headers.Authorization',
        message: 'environment variable SECRET_X is not set',
      },
    ]);
  });

  it('reports a malformed reference in MCP env like any other', () => {
    const path = write(FILE.replace('"${SECRET_X}"', '"${SECRET X}"'));
    expect(() => loadNightshiftFile(path, { env: { SECRET_X: SECRET } })).toThrow(
      /agents\[0\]\.mcp_tools\[0\]\.env\.GITHUB_TOKEN: invalid reference "\$\{SECRET X\}"/,
    );
  });

  it('nightshift validate names the unset variable and where, and never prints the value', async () => {
    const path = write(FILE);
    const invalid = await runInProcess(['validate', path], {});
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(
      'agents[0].mcp_tools[0].env.GITHUB_TOKEN: environment variable SECRET_X is not set',
    );
    expect(invalid.stderr).toContain(
      'agents[0].mcp_tools[1].headers.Authorization: environment variable SECRET_X is not set',
    );
    const valid = await runInProcess(['validate', path], { SECRET_X: SECRET });
    expect(valid.stderr).toEqual([]);
    expect(valid.code).toBe(0);
    expect([...valid.stdout, ...invalid.stdout, ...invalid.stderr].join('\n')).not.toContain(
      SECRET,
    );
  });
});
