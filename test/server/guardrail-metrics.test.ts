import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { scriptedAgent, startTestServer } from './server-fixtures.js';

describe('/metrics and guardrails', () => {
  it('counts each guardrail hit by agent, check, action and where (definition sent over HTTP)', async () => {
    const { api } = await startTestServer();
    const created = await api(
      'POST',
      '/api/agents',
      scriptedAgent('leaky', {
        model_config: { provider: 'scripted', script: [{ answer: 'the key is sk-live-abc123' }] },
        agent_config: {
          guardrails: [{ name: 'secrets', deny: ['sk-live-[a-z0-9]+'], action: 'redact' }],
        },
      }),
    );
    expect(created.status).toBe(201);
    const run = (await api('POST', '/api/agents/leaky/run', { wait: true })).body as {
      status: string;
      output: string;
    };
    expect(run).toMatchObject({ status: 'completed', output: 'the key is [redacted:secrets]' });
    const series =
      'nightshift_guardrail_hits_total{agent_id="leaky",check="secrets",action="redact",where="answer"}';
    const text = await waitFor(
      async () => {
        const body = (await api('GET', '/metrics')).body as string;
        return body.includes(`${series} 1`) ? body : undefined;
      },
      { what: 'the guardrail hit to be counted' },
    );
    expect(text).toContain('# TYPE nightshift_guardrail_hits_total counter');
  });

  it('refuses a guardrail with a bad regular expression, naming its path', async () => {
    const { api } = await startTestServer();
    const answer = await api(
      'POST',
      '/api/agents',
      scriptedAgent('bad', {
        agent_config: { guardrails: [{ deny: ['(unclosed'], action: 'block' }] },
      }),
    );
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('agent_config.guardrails[0].deny[0]');
  });
});
