import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** The AI SDK's spans of one model request (`generateText`, `streamText`). */
const MODEL_CALL_SPANS = new Set(['ai.generateText.doGenerate', 'ai.streamText.doStream']);

/**
 * Completes the AI SDK's spans with the GenAI semantic conventions it leaves out: a model
 * request gets `gen_ai.operation.name` (`chat`) and `gen_ai.provider.name` (the provider of its
 * `gen_ai.system`, `openai` for `openai.chat`); a tool call (`ai.toolCall`) gets
 * `gen_ai.operation.name` (`execute_tool`), `gen_ai.tool.name` and `gen_ai.tool.call.id`. The
 * SDK already sets `gen_ai.request.model` and `gen_ai.usage.input_tokens` / `output_tokens`.
 */
export class GenAiConventions implements SpanProcessor {
  onStart(span: Span): void {
    const attributes = span.attributes;
    if (MODEL_CALL_SPANS.has(span.name)) {
      const system = attributes['gen_ai.system'];
      span.setAttribute('gen_ai.operation.name', 'chat');
      if (typeof system === 'string' && attributes['gen_ai.provider.name'] === undefined) {
        span.setAttribute('gen_ai.provider.name', system.split('.')[0] ?? system);
      }
    } else if (span.name === 'ai.toolCall') {
      span.setAttribute('gen_ai.operation.name', 'execute_tool');
      const name = attributes['ai.toolCall.name'];
      const id = attributes['ai.toolCall.id'];
      if (typeof name === 'string') span.setAttribute('gen_ai.tool.name', name);
      if (typeof id === 'string') span.setAttribute('gen_ai.tool.call.id', id);
    }
  }

  onEnd(span: ReadableSpan): void {
    void span;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
