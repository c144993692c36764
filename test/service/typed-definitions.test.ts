import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  AgentDefinitionInput,
  AgentDefinitionPatch,
  BuiltInProvider,
} from '../../src/config/agent-definition.js';
import type { BackgroundAgentService } from '../../src/index.js';
import { makeService } from './service-fixtures.js';

describe('typed definitions (checked by npm run typecheck, which covers the tests)', () => {
  it('create and updateAgent take typed definitions; the untyped forms validate what they get', async () => {
    expectTypeOf<
      Parameters<BackgroundAgentService['create']>[0]
    >().toEqualTypeOf<AgentDefinitionInput>();
    expectTypeOf<
      Parameters<BackgroundAgentService['updateAgent']>[1]
    >().toEqualTypeOf<AgentDefinitionPatch>();
    expectTypeOf<'openai'>().toExtend<BuiltInProvider>();
    expectTypeOf<AgentDefinitionInput['model_config']['provider']>().toExtend<string>();

    const service = makeService();
    const untyped: Record<string, unknown> = { agent_id: 'loose' };
    // @ts-expect-error: a Record is not a definition; createFromUntyped is the door for JSON.
    await expect(service.create(untyped)).rejects.toMatchObject({ code: 'config_invalid' });
    await expect(service.createFromUntyped(untyped)).rejects.toMatchObject({
      code: 'config_invalid',
    });
    await service.create({
      agent_id: 'typed',
      interval: 60,
      model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
      task_config: { query: 'q' },
    });
    // @ts-expect-error: interval is a number of seconds.
    await expect(service.updateAgent('typed', { interval: '60' })).rejects.toMatchObject({
      code: 'config_invalid',
    });
    await expect(service.updateAgentFromUntyped('typed', [])).rejects.toMatchObject({
      code: 'config_invalid',
    });
    const updated = await service.updateAgent('typed', { interval: 30, jitter: null });
    expect(updated.schedule.interval).toBe(30);
  });
});
