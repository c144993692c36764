import { context, type Tracer } from '@opentelemetry/api';
import type { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { GenAiConventions } from './gen-ai-conventions.js';
import { RedactingSpanExporter } from './redacting-exporter.js';
import type { TelemetrySettings } from './telemetry-settings.js';

/** The instrumentation scope of Nightshift's own spans (and the AI SDK's, given its tracer). */
const SCOPE = 'nightshift';

/** The service's tracer and the pipeline behind it. */
export interface TraceExport {
  tracer: Tracer;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Sends what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

let contextManagerChecked = false;

/**
 * Makes spans started inside a callback (the AI SDK's model and tool call spans) children of
 * the span that is active there, by registering an AsyncLocalStorage context manager once per
 * process; one the host application registered already is kept.
 */
function ensureContextManager(Manager: typeof AsyncLocalStorageContextManager): void {
  if (contextManagerChecked) return;
  contextManagerChecked = true;
  const manager = new Manager().enable();
  if (!context.setGlobalContextManager(manager)) manager.disable();
}

/**
 * A tracer provider of the service's own (never registered globally): spans are batched,
 * redacted and posted as OTLP/HTTP JSON to `settings.tracesUrl`. The OpenTelemetry SDK is
 * loaded here, not with the package: some 30 MB a service without telemetry need not carry.
 */
export async function startTraceExport(
  settings: TelemetrySettings,
  redact: <T>(value: T) => T,
): Promise<TraceExport> {
  const [
    { AsyncLocalStorageContextManager: ContextManager },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { BasicTracerProvider, BatchSpanProcessor },
  ] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  ensureContextManager(ContextManager);
  const exporter = new OTLPTraceExporter({ url: settings.tracesUrl, headers: settings.headers });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    spanProcessors: [
      new GenAiConventions(),
      new BatchSpanProcessor(new RedactingSpanExporter(exporter, redact), {
        scheduledDelayMillis: 1000,
      }),
    ],
  });
  return {
    tracer: provider.getTracer(SCOPE),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
