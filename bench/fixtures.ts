/** What the suites give the service: a made-up secret and an instant mock model. */
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
