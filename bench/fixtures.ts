/** What the suites give the service: a made-up secret and mock models (instant, or delayed). */
import { setTimeout as sleep } from 'node:timers/promises';
import { MockLanguageModelV3 } from 'ai/test';
import { toGenerateResult } from '../test/agent/mock-model.js';

/** A made-up secret, so payloads are redacted as in a deployment that holds one API key. */
export const BENCH_SECRET = 'bench-secret-0123456789abcdef';

/** A mock model that answers at once with text; it forgets its calls so memory stays flat. */
export function instantModel(): MockLanguageModelV3 {
  const model: MockLanguageModelV3 = new MockLanguageModelV3({
    doGenerate: async () => {
      model.doGenerateCalls.length = 0;
      return toGenerateResult({ text: 'ok' }, 0);
    },
  });
  return model;
}

/**
 * A mock model that answers each call after `delayMs` (at once for 0; rejects when the call is
 * aborted): a call to
 * `tool` when the conversation's last message is not a tool result, else the text `done` — so
 * each run is one tool call, then an answer, whatever came before in the agent's session. It
 * forgets its calls so memory stays flat.
 */
export function delayedToolModel(delayMs: number, tool: string): MockLanguageModelV3 {
  let calls = 0;
  const model: MockLanguageModelV3 = new MockLanguageModelV3({
    doGenerate: async ({ prompt, abortSignal }) => {
      model.doGenerateCalls.length = 0;
      if (delayMs > 0) await sleep(delayMs, undefined, { signal: abortSignal });
      const answered = prompt.at(-1)?.role === 'tool';
      return toGenerateResult(
        answered ? { text: 'done' } : { tools: [{ name: tool, args: { text: 'ping' } }] },
        calls++,
      );
    },
  });
  return model;
}
