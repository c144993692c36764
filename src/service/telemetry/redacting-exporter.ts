import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * Passes every span through `redact` before the exporter sends it: attribute values (prompts
 * and replies when content is captured, error messages), event attributes and the status
 * message. The one place spans leave the process, so nothing reaches a collector unredacted.
 */
export class RedactingSpanExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #redact: <T>(value: T) => T;

  constructor(inner: SpanExporter, redact: <T>(value: T) => T) {
    this.#inner = inner;
    this.#redact = redact;
  }

  export(spans: ReadableSpan[], resultCallback: Parameters<SpanExporter['export']>[1]): void {
    this.#inner.export(
      spans.map((span) => this.#redacted(span)),
      resultCallback,
    );
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }

  #redacted(span: ReadableSpan): ReadableSpan {
    const redact = this.#redact;
    const status = span.status.message
      ? { ...span.status, message: redact(span.status.message) }
      : span.status;
    return {
      name: span.name,
      kind: span.kind,
      spanContext: () => span.spanContext(),
      ...(span.parentSpanContext ? { parentSpanContext: span.parentSpanContext } : {}),
      startTime: span.startTime,
      endTime: span.endTime,
      status,
      attributes: redact<Attributes>(span.attributes),
      links: span.links,
      events: span.events.map((event) =>
        event.attributes ? { ...event, attributes: redact<Attributes>(event.attributes) } : event,
      ),
      duration: span.duration,
      ended: span.ended,
      resource: span.resource,
      instrumentationScope: span.instrumentationScope,
      droppedAttributesCount: span.droppedAttributesCount,
      droppedEventsCount: span.droppedEventsCount,
      droppedLinksCount: span.droppedLinksCount,
    };
  }
}
