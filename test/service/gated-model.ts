import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';
import { toGenerateResult, type MockReply } from '../agent/mock-model.js';

/**
 * A mock model whose calls wait at a gate until the test opens them, so a test can hold a run
 * in flight for as long as it needs. Calls honour their abort signal.
 */
export function gatedModel(
  reply: (call: number, options: LanguageModelV3CallOptions) => MockReply | Error = () => ({
    text: 'done',
  }),
) {
  const waiting: (() => void)[] = [];
  let calls = 0;
  let open = false;
  const model = new MockLanguageModelV3({
    doGenerate: async (options) => {
      const call = calls++;
      if (!open) {
        await new Promise<void>((resolve, reject) => {
          waiting.push(resolve);
          options.abortSignal?.addEventListener(
            'abort',
            () => reject(options.abortSignal?.reason),
            { once: true },
          );
        });
      }
      const result = reply(call, options);
      if (result instanceof Error) throw result;
      return toGenerateResult(result, call);
    },
  });
  return {
    model,
    /** Calls waiting at the gate now. */
    get waiting() {
      return waiting.length;
    },
    get calls() {
      return calls;
    },
    /** Lets every waiting call through. */
    release() {
      for (const resolve of waiting.splice(0)) resolve();
    },
    /** Lets every call through, now and later. */
    openForever() {
      open = true;
      this.release();
    },
  };
}
