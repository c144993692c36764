import type { LanguageModelV3, ProviderV3 } from '@ai-sdk/provider';
import type { ModelConfig } from '../../config/agent-definition.js';
import { DEFAULTS } from '../../config/defaults.js';
import { apiKeyEnvFor } from '../../config/parse-agent-definition.js';
import { NightshiftError } from '../../errors.js';
import { lazyModule, lazyRequire } from '../../shared/lazy-module.js';
import { ScriptedLanguageModel } from './scripted-model.js';

/**
 * A hosted provider's package (some 16 MB each, with what they share), loaded when a model of
 * that provider is first built rather than with Nightshift. The service imports it before
 * building the model ({@link loadModelProvider}); {@link createModel} is synchronous, so when
 * called directly before that it requires the package's CommonJS build instead.
 */
function providerPackage<T>(importModule: () => Promise<T>, specifier: string) {
  const imported = lazyModule(importModule);
  const required = lazyRequire<T>(specifier);
  return {
    load: () => imported.load(),
    now: (): T => imported.loaded() ?? required.loaded() ?? required(),
  };
}

const openai = providerPackage(() => import('@ai-sdk/openai'), '@ai-sdk/openai');
const anthropic = providerPackage(() => import('@ai-sdk/anthropic'), '@ai-sdk/anthropic');
const google = providerPackage(() => import('@ai-sdk/google'), '@ai-sdk/google');
const openaiCompatible = providerPackage(
  () => import('@ai-sdk/openai-compatible'),
  '@ai-sdk/openai-compatible',
);

/** The package each hosted provider name needs. */
const PROVIDER_PACKAGES: Readonly<Record<string, { load(): Promise<unknown> }>> = {
  openai,
  anthropic,
  google,
  ollama: openaiCompatible,
  openai_compatible: openaiCompatible,
};

/**
 * Loads the package a model of `config` needs (none for a provider registered in code or the
 * scripted one), so that {@link createModel} then finds it loaded.
 */
export async function loadModelProvider(
  config: ModelConfig,
  options: Pick<ModelFactoryOptions, 'providers'> = {},
): Promise<void> {
  if (options.providers?.[config.provider]) return;
  await PROVIDER_PACKAGES[config.provider]?.load();
}

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
      return openai.now().createOpenAI({ ...common, apiKey: apiKey ?? '' })(config.model);
    case 'anthropic':
      return anthropic.now().createAnthropic({ ...common, apiKey: apiKey ?? '' })(config.model);
    case 'google':
      return google.now().createGoogleGenerativeAI({ ...common, apiKey: apiKey ?? '' })(
        config.model,
      );
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
      return openaiCompatible
        .now()
        .createOpenAICompatible({
          name: config.provider,
          ...common,
          baseURL,
          ...(apiKey ? { apiKey } : {}),
          includeUsage: true,
        })
        .chatModel(config.model);
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
