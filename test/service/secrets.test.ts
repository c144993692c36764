import { describe, expect, it } from 'vitest';
import { makeService, scriptedAgent } from './service-fixtures.js';

describe('secret redaction (promise 8)', () => {
  it('replaces secret values in events, run records and steps with [redacted]', async () => {
    const token = 'ghp_example_token_1234567890';
    const databasePassword = 'hunter2-but-longer';
    const service = makeService({
      env: { DEPLOY_TOKEN: token, HOME: '/home/someone' },
      secrets: [`postgres://app:${databasePassword}@db.internal/app`],
      tools: {
        leak: {
          description: 'Returns configuration, secrets included.',
          inputSchema: { type: 'object', properties: {} },
          idempotent: true,
          execute: () => ({
            token,
            url: `postgres://app:${databasePassword}@db.internal/app`,
            home: '/home/someone',
          }),
        },
      },
    });
    await service.startManager();
    await service.create(
      scriptedAgent('leaky', {
        tools: ['leak'],
        model_config: {
          provider: 'scripted',
          script: [{ tool: 'leak' }, { answer: 'The token is {{leak.token}}; db {{leak.url}}' }],
        },
      }),
    );
    const run = await service.runNow('leaky', { wait: true });
    expect(run.status).toBe('completed');
    expect(run.output).toBe('The token is [redacted]; db [redacted]');
    const written = JSON.stringify([
      await service.readEvents({ limit: 1000 }),
      await service.getRun(run.run_id),
      await service.getRunSteps(run.run_id),
    ]);
    expect(written).not.toContain(token);
    expect(written).not.toContain(databasePassword);
    expect(written).toContain('/home/someone');
    expect(written).toContain('[redacted]');
  });

  it('leaves everything as it is when there is nothing secret', async () => {
    const service = makeService({ env: {} });
    await service.startManager();
    await service.create(scriptedAgent('plain'));
    expect((await service.runNow('plain', { wait: true })).output).toBe('plain done');
  });
});
