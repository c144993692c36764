import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3StreamPart,
} from '@ai-sdk/provider';
import { NightshiftError } from '../errors.js';

/**
 * Holds model requests back beyond a cap per provider (the `model_config.provider` name), so a
 * fleet stays under a provider's rate limits: in one process, or across every process sharing a
 * Redis (`createRedisModelRequestLimiter`).
 */
export interface ModelRequestLimiter {
  /**
   * Waits for a free slot of `provider` and resolves with the function that frees it; rejects
   * with the signal's reason when it aborts first. A provider without a cap resolves at once.
   */
  acquire(provider: string, signal?: AbortSignal): Promise<() => void>;
  /** Frees what the limiter holds (connections, timers). */
  close?(): Promise<void>;
}

/** Caps per provider name: at most this many requests in flight. */
export type ModelRequestLimits = Readonly<Record<string, number>>;

/** Checks caps: whole numbers of at least 1, by provider name. */
export function checkModelRequestLimits(limits: ModelRequestLimits): void {
  for (const [provider, limit] of Object.entries(limits)) {
    if (!Number.isInteger(limit) || limit < 1) {
      const path = `modelRequestLimits.${provider}`;
      throw new NightshiftError('config_invalid', `${path}: must be a whole number of at least 1`, {
        fields: [{ path, message: 'must be a whole number of at least 1' }],
      });
    }
  }
}

/** A limiter for this process alone: a first-come, first-served semaphore per provider. */
export function createProcessModelRequestLimiter(limits: ModelRequestLimits): ModelRequestLimiter {
  checkModelRequestLimits(limits);
  const inFlight = new Map<string, number>();
  const waiting = new Map<string, (() => void)[]>();
  const release = (provider: string) => {
    const next = waiting.get(provider)?.shift();
    // The slot passes straight to the next in line, so it cannot be taken from under it.
    if (next) next();
    else inFlight.set(provider, (inFlight.get(provider) ?? 1) - 1);
  };
  return {
    acquire(provider, signal) {
      const limit = limits[provider];
      if (limit === undefined) return Promise.resolve(() => undefined);
      if (signal?.aborted) return Promise.reject(signal.reason);
      const once = () => {
        let released = false;
        return () => {
          if (released) return;
          released = true;
          release(provider);
        };
      };
      if ((inFlight.get(provider) ?? 0) < limit) {
        inFlight.set(provider, (inFlight.get(provider) ?? 0) + 1);
        return Promise.resolve(once());
      }
      return new Promise((resolve, reject) => {
        const queue = waiting.get(provider) ?? [];
        waiting.set(provider, queue);
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(once());
        };
        const onAbort = () => {
          const index = queue.indexOf(grant);
          if (index >= 0) queue.splice(index, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(grant);
      });
    },
  };
}

/**
 * The model with each request (`doGenerate`, `doStream`) taking a slot of `provider` from the
 * limiter first, for as long as it is in flight (a stream until it ends, fails or is cancelled).
 * An HTTP retry inside the AI SDK is a new request, and waits for a slot again.
 */
export function limitModelRequests(
  model: LanguageModelV3,
  provider: string,
  limiter: ModelRequestLimiter,
): LanguageModelV3 {
  return {
    specificationVersion: model.specificationVersion,
    provider: model.provider,
    modelId: model.modelId,
    get supportedUrls() {
      return model.supportedUrls;
    },
    async doGenerate(options: LanguageModelV3CallOptions) {
      const release = await limiter.acquire(provider, options.abortSignal);
      try {
        return await model.doGenerate(options);
      } finally {
        release();
      }
    },
    async doStream(options: LanguageModelV3CallOptions) {
      const release = await limiter.acquire(provider, options.abortSignal);
      try {
        const result = await model.doStream(options);
        const reader = result.stream.getReader();
        const stream = new ReadableStream<LanguageModelV3StreamPart>({
          async pull(controller) {
            try {
              const { done, value } = await reader.read();
              if (done) {
                release();
                controller.close();
              } else controller.enqueue(value);
            } catch (error) {
              release();
              controller.error(error);
            }
          },
          async cancel(reason) {
            release();
            await reader.cancel(reason);
          },
        });
        return { ...result, stream };
      } catch (error) {
        release();
        throw error;
      }
    },
  };
}
