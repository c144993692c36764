import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { createHash } from 'node:crypto';

/** SHA-256 of the canonical JSON of a value (object keys sorted), for recording arguments without their content. */
export function digest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * SHA-256 of a model request as the provider would be sent it: the prompt, the tools and the
 * settings that shape the reply. Tool call ids are numbered in order of appearance, so a
 * replay whose model makes the same calls under new ids sends the same request; provider
 * options on prompt parts are left out. The request is hashed as the AI SDK builds it (its key
 * order is its own and stable), in one pass: it runs before every model call.
 */
export function requestDigest(params: LanguageModelV3CallOptions): string {
  const ids = new Map<string, string>();
  const replacer = (key: string, value: unknown): unknown => {
    if (key === 'providerOptions') return undefined;
    if (key === 'toolCallId' && typeof value === 'string') {
      let mapped = ids.get(value);
      if (mapped === undefined) {
        mapped = `call_${ids.size}`;
        ids.set(value, mapped);
      }
      return mapped;
    }
    return value;
  };
  const hash = createHash('sha256');
  hash.update(JSON.stringify(params.prompt, replacer) ?? '[]');
  hash.update('\n');
  hash.update(
    JSON.stringify([
      params.tools ?? [],
      params.toolChoice ?? null,
      params.responseFormat ?? null,
      params.maxOutputTokens ?? null,
      params.temperature ?? null,
      params.topP ?? null,
    ]),
  );
  return hash.digest('hex');
}

function canonicalJson(value: unknown): string {
  const canonical = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(canonical);
    if (item instanceof Uint8Array) return Buffer.from(item).toString('base64');
    if (item instanceof URL) return item.href;
    if (item && typeof item === 'object') {
      return Object.fromEntries(
        Object.keys(item)
          .sort()
          .filter((key) => (item as Record<string, unknown>)[key] !== undefined)
          .map((key) => [key, canonical((item as Record<string, unknown>)[key])]),
      );
    }
    return item;
  };
  return JSON.stringify(canonical(value)) ?? 'null';
}
