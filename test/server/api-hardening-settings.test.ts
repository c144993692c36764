import { describe, expect, it } from 'vitest';
import { httpServerSettings, startHttpServer } from '../../src/cli/start-http-server.js';
import { serverSectionSchema } from '../../src/config/nightshift-file.js';
import { onCleanup, scriptedAgent, startService } from './server-fixtures.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('the server section of a Nightshift file', () => {
  it('takes allowed_env and allow_unauthenticated_changes to the server', async () => {
    const section = serverSectionSchema.parse({
      port: 0,
      allowed_env: ['DEPLOY_KEY'],
      allow_unauthenticated_changes: true,
    });
    const env = { DEPLOY_KEY: 'deploy-key-value' };
    const settings = httpServerSettings(section, {}, env);
    expect(settings).toMatchObject({
      token: undefined,
      allowedEnv: ['DEPLOY_KEY'],
      allowUnauthenticatedChanges: true,
    });
    if (!settings) throw new Error('no settings');
    const server = await startHttpServer(await startService(), settings, silent);
    onCleanup(() => server.close());
    const post = (definition: Record<string, unknown>) =>
      fetch(`${server.url}/api/agents`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(definition),
      });
    const commands = scriptedAgent('commands', {
      system_instruction: 'Key: ${DEPLOY_KEY}.',
      mcp_tools: [{ name: 'shell', transport_type: 'stdio', command: 'sh', args: ['-c', 'id'] }],
    });
    expect((await post(commands)).status).toBe(201);
    const standard = await post(
      scriptedAgent('standard', { system_instruction: 'Key: ${OPENAI_API_KEY}.' }),
    );
    expect(standard.status).toBe(400);
  });

  it('refuses an allowed_env entry that is not a variable name', () => {
    const parsed = serverSectionSchema.safeParse({ allowed_env: ['NOT A NAME'] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['allowed_env', 0]);
  });
});
