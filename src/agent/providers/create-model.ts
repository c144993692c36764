import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3, ProviderV3 } from '@ai-sdk/provider';
import type { ModelConfig } from '../../config/agent-definition.js';
import { DEFAULTS } from '../../config/defaults.js';
import { apiKeyEnvFor } from '../../config/parse-agent-definition.js';
import { NightshiftError } from '../../errors.js';
import { ScriptedLanguageModel } from './scripted-model.js';

/** A provider registered in code: an AI SDK provider object, or a function from model id to model. */
export type RegisteredProvider = ProviderV3 | ((modelId: string) => LanguageModelV3);

/** What building a model may use besides its configuration. */
export interface ModelFactoryOptions {
  providers?: Readonly<Record<string, RegisteredProvider>>;
  env?: Readonly<Record<string, string | undefined>>;
  /** Replaces `fetch` for HTTP providers (tests, proxies). */
  fetch?: typeof globalThis.fetch;
}

/** Builds the AI SDK language model an agent's `model_config` names. Keys are read from the environment, never stored. */
export function createModel(
  config: ModelConfig,
  options: ModelFactoryOptions = {},
): LanguageModelV3 {
  const registered = options.providers?.[config.provider];
  if (registered) {
    return typeof registered === 'function'
      ? registered(config.model)
      : registered.languageModel(config.model);
  }
  const env = options.env ?? process.env;
  const keyEnv = apiKeyEnvFor(config);
  const apiKey = keyEnv ? env[keyEnv] : undefined;
  if (keyEnv && !apiKey && config.provider !== 'scripted') {
    throw new NightshiftError(
      'missing_api_key',
      `environment variable ${keyEnv} is not set (it holds the ${config.provider} API key)`,
      {
        fields: [
          {
            path: 'model_config.api_key_env',
            message: `environment variable ${keyEnv} is not set`,
          },
        ],
      },
    );
  }
  const common = {
    ...(config.base_url ? { baseURL: config.base_url } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  switch (config.provider) {
    case 'scripted':
      return new ScriptedLanguageModel(config.script ?? [], config.model);
    case 'openai':
      return createOpenAI({ ...common, apiKey: apiKey ?? '' })(config.model);
    case 'anthropic':
      return createAnthropic({ ...common, apiKey: apiKey ?? '' })(config.model);
    case 'google':
      return createGoogleGenerativeAI({ ...common, apiKey: apiKey ?? '' })(config.model);
    case 'ollama':
    case 'openai_compatible': {
      const baseURL =
        config.base_url ?? (config.provider === 'ollama' ? DEFAULTS.ollama_base_url : undefined);
      if (!baseURL) {
        throw new NightshiftError(
          'config_invalid',
          'model_config.base_url: required for openai_compatible',
          {
            fields: [{ path: 'model_config.base_url', message: 'required for openai_compatible' }],
          },
        );
      }
      return createOpenAICompatible({
        name: config.provider,
        ...common,
        baseURL,
        ...(apiKey ? { apiKey } : {}),
        includeUsage: true,
      }).chatModel(config.model);
    }
    default:
      throw new NightshiftError(
        'config_invalid',
        `model_config.provider: unknown provider "${config.provider}"`,
        {
          fields: [
            { path: 'model_config.provider', message: `unknown provider "${config.provider}"` },
          ],
        },
      );
  }
}
