import { MockLanguageModelV3, MockProviderV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/agent/index.js';
import { NightshiftError } from '../../src/errors.js';

describe('createModel', () => {
  it('refuses a hosted provider without its API key, naming the variable', () => {
    const attempt = () => createModel({ provider: 'anthropic', model: 'claude' }, { env: {} });
    expect(attempt).toThrow(NightshiftError);
    expect(attempt).toThrow(/ANTHROPIC_API_KEY/);
  });

  it('reads the key from the variable named by api_key_env', () => {
    const model = createModel(
      { provider: 'openai', model: 'gpt-4o-mini', api_key_env: 'MY_KEY' },
      { env: { MY_KEY: 'sk-test' } },
    );
    expect(model.provider).toContain('openai');
    expect(model.modelId).toBe('gpt-4o-mini');
    expect(JSON.stringify(model)).not.toContain('sk-test');
  });

  it('builds ollama on its default local endpoint without a key', () => {
    const model = createModel({ provider: 'ollama', model: 'llama3.2' }, { env: {} });
    expect(model.provider).toContain('ollama');
  });

  it('requires base_url for openai_compatible', () => {
    expect(() => createModel({ provider: 'openai_compatible', model: 'm' }, { env: {} })).toThrow(
      /base_url/,
    );
  });

  it('uses a provider registered in code under a name', () => {
    const mock = new MockLanguageModelV3({ modelId: 'house-model' });
    const fromProvider = createModel(
      { provider: 'house', model: 'house-model' },
      { providers: { house: new MockProviderV3({ languageModels: { 'house-model': mock } }) } },
    );
    expect(fromProvider).toBe(mock);
    const fromFunction = createModel(
      { provider: 'fn', model: 'x' },
      { providers: { fn: () => mock } },
    );
    expect(fromFunction).toBe(mock);
  });
});
