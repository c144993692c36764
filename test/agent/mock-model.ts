import type { LanguageModelV3CallOptions, LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';

/** One scripted reply of a mock model: text, or tool calls. */
export type MockReply =
  | { text: string; tokens?: number }
  | { tools: { name: string; args?: object }[]; text?: string; tokens?: number };

/** A reply as the AI SDK's model spec wants it; `tokens` is split evenly between input and output. */
export function toGenerateResult(reply: MockReply, call: number): LanguageModelV3GenerateResult {
  const tokens = reply.tokens ?? 10;
  const input = Math.ceil(tokens / 2);
  const output = tokens - input;
  const content: LanguageModelV3GenerateResult['content'] =
    'tools' in reply
      ? [
          ...(reply.text ? [{ type: 'text' as const, text: reply.text }] : []),
          ...reply.tools.map((toolCall, index) => ({
            type: 'tool-call' as const,
            toolCallId: `call-${call}-${index}`,
            toolName: toolCall.name,
            input: JSON.stringify(toolCall.args ?? {}),
          })),
        ]
      : [{ type: 'text', text: reply.text }];
  return {
    content,
    finishReason: { unified: 'tools' in reply ? 'tool-calls' : 'stop', raw: undefined },
    usage: {
      inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
      outputTokens: { total: output, text: output, reasoning: 0 },
    },
    warnings: [],
  };
}

/**
 * A MockLanguageModelV3 that answers call k with `replies[k]` (the last reply repeats),
 * or with what `reply(call, options)` returns.
 */
export function mockModel(
  replies:
    | MockReply[]
    | ((call: number, options: LanguageModelV3CallOptions) => MockReply | Promise<MockReply>),
): MockLanguageModelV3 {
  let calls = 0;
  return new MockLanguageModelV3({
    doGenerate: async (options) => {
      const call = calls++;
      const reply =
        typeof replies === 'function'
          ? await replies(call, options)
          : replies[Math.min(call, replies.length - 1)];
      if (!reply) throw new Error('no reply scripted');
      return toGenerateResult(reply, call);
    },
  });
}

/** A model call that never answers until its abort signal fires. */
export function hangUntilAborted(options: LanguageModelV3CallOptions): Promise<never> {
  return new Promise((_, reject) => {
    options.abortSignal?.addEventListener('abort', () => reject(options.abortSignal?.reason), {
      once: true,
    });
  });
}
