import type { z } from 'zod';
import type { AgentDefinition, modelPricingSchema } from './agent-definition.js';

/** What a model costs, in US dollars per million tokens. */
export type ModelPricing = z.output<typeof modelPricingSchema>;

/**
 * List prices of the models people run agents on, in US dollars per million tokens (standard
 * tier, prompts up to 200k tokens where a price depends on length), from the providers' public
 * pricing pages: https://openai.com/api/pricing, https://www.anthropic.com/pricing#api and
 * https://ai.google.dev/gemini-api/docs/pricing, as they read when this table was last checked
 * ({@link PRICE_TABLE_DATE}). Prices change: `model_config.pricing` or the Nightshift file's
 * `pricing:` block overrides any of them, and a model missing here is priced there.
 */
export const PRICE_TABLE_DATE = '2025-11-01';

/** Model name → price; a dated snapshot (`gpt-4o-2024-08-06`, `claude-…-20250929`) reads its base. */
export const PRICE_TABLE: Readonly<Record<string, ModelPricing>> = {
  // OpenAI
  'gpt-5': { input_per_million: 1.25, cached_input_per_million: 0.125, output_per_million: 10 },
  'gpt-5-mini': { input_per_million: 0.25, cached_input_per_million: 0.025, output_per_million: 2 },
  'gpt-5-nano': {
    input_per_million: 0.05,
    cached_input_per_million: 0.005,
    output_per_million: 0.4,
  },
  'gpt-4.1': { input_per_million: 2, cached_input_per_million: 0.5, output_per_million: 8 },
  'gpt-4.1-mini': {
    input_per_million: 0.4,
    cached_input_per_million: 0.1,
    output_per_million: 1.6,
  },
  'gpt-4.1-nano': {
    input_per_million: 0.1,
    cached_input_per_million: 0.025,
    output_per_million: 0.4,
  },
  'gpt-4o': { input_per_million: 2.5, cached_input_per_million: 1.25, output_per_million: 10 },
  'gpt-4o-mini': {
    input_per_million: 0.15,
    cached_input_per_million: 0.075,
    output_per_million: 0.6,
  },
  o3: { input_per_million: 2, cached_input_per_million: 0.5, output_per_million: 8 },
  'o4-mini': { input_per_million: 1.1, cached_input_per_million: 0.275, output_per_million: 4.4 },
  // Anthropic (cached input: a prompt-cache read)
  'claude-opus-4-5': {
    input_per_million: 5,
    cached_input_per_million: 0.5,
    output_per_million: 25,
  },
  'claude-opus-4-1': {
    input_per_million: 15,
    cached_input_per_million: 1.5,
    output_per_million: 75,
  },
  'claude-sonnet-4-5': {
    input_per_million: 3,
    cached_input_per_million: 0.3,
    output_per_million: 15,
  },
  'claude-sonnet-4': {
    input_per_million: 3,
    cached_input_per_million: 0.3,
    output_per_million: 15,
  },
  'claude-haiku-4-5': {
    input_per_million: 1,
    cached_input_per_million: 0.1,
    output_per_million: 5,
  },
  'claude-3-5-haiku': {
    input_per_million: 0.8,
    cached_input_per_million: 0.08,
    output_per_million: 4,
  },
  // Google
  'gemini-2.5-pro': {
    input_per_million: 1.25,
    cached_input_per_million: 0.125,
    output_per_million: 10,
  },
  'gemini-2.5-flash': {
    input_per_million: 0.3,
    cached_input_per_million: 0.03,
    output_per_million: 2.5,
  },
  'gemini-2.5-flash-lite': {
    input_per_million: 0.1,
    cached_input_per_million: 0.01,
    output_per_million: 0.4,
  },
  'gemini-2.0-flash': {
    input_per_million: 0.1,
    cached_input_per_million: 0.025,
    output_per_million: 0.4,
  },
};

/** Free: nothing is billed. */
const FREE: ModelPricing = { input_per_million: 0, output_per_million: 0 };

/** Providers that bill nothing unless priced: local models and the offline script. */
const FREE_PROVIDERS = new Set(['ollama', 'scripted']);

/** A snapshot's suffix: `-2024-08-06`, `-20250929`, `-latest`. */
const SNAPSHOT_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest)$/;

/** Where a price came from, for the record and for messages. */
export type PriceSource = 'model_config' | 'file' | 'table' | 'free';

/** A model's price and where it came from; undefined when it has none. */
export interface ResolvedPrice {
  pricing: ModelPricing;
  source: PriceSource;
}

/**
 * The price of an agent's model: its own `model_config.pricing`, else the Nightshift file's
 * (`pricing` by model name), else the built-in table (by model name, a dated snapshot by its
 * base), else free for `ollama`, `scripted` and servers on this machine; undefined otherwise.
 */
export function resolvePrice(
  modelConfig: Pick<AgentDefinition['model_config'], 'provider' | 'model' | 'pricing' | 'base_url'>,
  filePricing: Readonly<Record<string, ModelPricing>> = {},
): ResolvedPrice | undefined {
  if (modelConfig.pricing) return { pricing: modelConfig.pricing, source: 'model_config' };
  const model = modelConfig.model;
  const base = model.replace(SNAPSHOT_SUFFIX, '');
  const own = Object.hasOwn(filePricing, model) ? filePricing[model] : undefined;
  if (own) return { pricing: own, source: 'file' };
  const ownBase = Object.hasOwn(filePricing, base) ? filePricing[base] : undefined;
  if (ownBase) return { pricing: ownBase, source: 'file' };
  const listed = Object.hasOwn(PRICE_TABLE, model) ? PRICE_TABLE[model] : undefined;
  if (listed) return { pricing: listed, source: 'table' };
  const listedBase = Object.hasOwn(PRICE_TABLE, base) ? PRICE_TABLE[base] : undefined;
  if (listedBase) return { pricing: listedBase, source: 'table' };
  if (FREE_PROVIDERS.has(modelConfig.provider) || onThisMachine(modelConfig.base_url))
    return { pricing: FREE, source: 'free' };
  return undefined;
}

function onThisMachine(baseUrl: string | undefined): boolean {
  if (baseUrl === undefined || !URL.canParse(baseUrl)) return false;
  const host = new URL(baseUrl).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Token counts a price applies to; cached input is part of `input_tokens`. */
export interface PricedTokens {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens?: number | undefined;
}

/**
 * What tokens cost, in millionths of a US dollar, rounded up: whole numbers, so budgets add up
 * exactly. Cached input tokens (part of the input) are charged the cached price when one is set.
 */
export function costMicroUsd(tokens: PricedTokens, pricing: ModelPricing): number {
  const cached = Math.min(tokens.cached_input_tokens ?? 0, tokens.input_tokens);
  const cachedPrice = pricing.cached_input_per_million ?? pricing.input_per_million;
  // Per million tokens in dollars is per token in millionths of a dollar.
  const micro =
    (tokens.input_tokens - cached) * pricing.input_per_million +
    cached * cachedPrice +
    tokens.output_tokens * pricing.output_per_million;
  // Rounded to 1e-6 first: 0.1 + 0.2 must not round up to a whole extra millionth.
  return Math.ceil(Math.round(micro * 1e6) / 1e6);
}

/** Millionths of a dollar as dollars (for the record: `usage.cost_usd`). */
export function microUsdToUsd(micro: number): number {
  return micro / 1_000_000;
}

/** Dollars as millionths, rounded down (a limit is never raised by rounding). */
export function usdToMicroUsd(usd: number): number {
  return Math.floor(Math.round(usd * 1e12) / 1e6);
}
