import {
  ROOT_CONTEXT,
  SpanStatusCode,
  context,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import type { TelemetrySettings as AgentTelemetry } from 'ai';
import type { AgentRecord, ErrorInfo, RunRecord } from '../../storage/contracts/index.js';
import type { TraceExport } from './trace-export.js';

/** Run ids whose last active stretch is remembered, to link the next one to it. */
const MAX_REMEMBERED_STRETCHES = 1_000;

/** How long a shutdown waits for the last spans to be sent, at most. */
const DEFAULT_SHUTDOWN_FLUSH_MS = 5_000;

/** Statuses a run (or an attempt) waits in: not an error, not an end. */
const WAITING = new Set(['awaiting_budget', 'awaiting_approval']);

/** One attempt of a run, as traced. */
export interface AttemptTrace {
  /** The AI SDK's telemetry for the attempt's model and tool calls; undefined when tracing is off. */
  readonly telemetry: AgentTelemetry | undefined;
  /** The run options that trace the attempt's model and tool calls (none when off). */
  readonly options: { telemetry?: AgentTelemetry };
  /** Ends the attempt's span with how the attempt ended. */
  end(status: string, error: ErrorInfo | null): void;
}

/** One active stretch of a run (from its claim to its end, or to a wait), as traced. */
export interface RunTrace {
  /** The trace's id (32 hex digits); undefined when tracing is off. */
  readonly traceId: string | undefined;
  startAttempt(attempt: number, resumedFrom?: string | null): AttemptTrace;
  /** Ends the run's span with the run as it stands (its status, attempts and usage). */
  end(run: RunRecord): void;
}

const noAttempt: AttemptTrace = {
  telemetry: undefined,
  options: {},
  end: () => undefined,
};

const noRun: RunTrace = {
  traceId: undefined,
  startAttempt: () => noAttempt,
  end: () => undefined,
};

/**
 * Traces runs: each active stretch of a run is a trace of its own, a `nightshift.run` span with
 * a `nightshift.attempt` span per attempt, the AI SDK's model and tool call spans under the
 * attempt. A run that waits (`awaiting_budget`, `awaiting_approval`) ends its stretch there; the
 * stretch after the wake is a new trace, linked to the one before when this process ran it, and
 * always carrying the same `nightshift.run_id`. Off (no export), every call is a no-op.
 */
export class RunTracing {
  #export: TraceExport | undefined;
  /** While the export is being set up (the OpenTelemetry SDK loading); undefined after. */
  #starting: Promise<void> | undefined;
  readonly #captureContent: boolean;
  /** Trace ids of the runs being traced, for their events and log lines. */
  readonly #active = new Map<string, string>();
  readonly #lastStretch = new Map<string, SpanContext>();

  /**
   * `exported`: the export, or its setup (which answers undefined when it failed, and tracing
   * stays off); undefined when off.
   */
  constructor(
    exported: TraceExport | Promise<TraceExport | undefined> | undefined,
    captureContent = false,
  ) {
    if (exported instanceof Promise) {
      this.#starting = exported.then((ready) => {
        this.#export = ready;
        this.#starting = undefined;
      });
    } else {
      this.#export = exported;
    }
    this.#captureContent = captureContent;
  }

  /** Whether spans are exported (or will be, once the export is set up). */
  get enabled(): boolean {
    return this.#export !== undefined || this.#starting !== undefined;
  }

  /**
   * Resolves when the export is set up; undefined when it already is (or tracing is off), so
   * a caller awaits only then. A run's trace starts after it: {@link startRun} traces nothing
   * before.
   */
  whenReady(): Promise<void> | undefined {
    return this.#starting;
  }

  /** The trace id of a run being traced in this process. */
  traceIdOf(runId: string | null): string | undefined {
    return runId === null ? undefined : this.#active.get(runId);
  }

  /**
   * `fields` with the `trace_id` of the run they are about (their `run_id`), or of the span
   * active where they are logged; `fields` itself when there is none (always, when off).
   */
  logFields(fields: object): object {
    if (!this.#export) return fields;
    const runId = (fields as { run_id?: unknown }).run_id;
    const traceId =
      (typeof runId === 'string' ? this.#active.get(runId) : undefined) ??
      trace.getSpan(context.active())?.spanContext().traceId;
    return traceId ? { ...fields, trace_id: traceId } : fields;
  }

  /** Starts the trace of a run's stretch (a root span: a run is never part of another trace). */
  startRun(agent: AgentRecord, run: RunRecord): RunTrace {
    const exported = this.#export;
    if (!exported) return noRun;
    const previous = this.#lastStretch.get(run.run_id);
    const links: Link[] = previous
      ? [{ context: previous, attributes: { 'nightshift.link': 'previous_stretch' } }]
      : [];
    const span = exported.tracer.startSpan(
      'nightshift.run',
      {
        root: true,
        links,
        attributes: {
          'nightshift.agent_id': agent.agent_id,
          'nightshift.run_id': run.run_id,
          'nightshift.trigger': run.trigger,
          'nightshift.scheduled_at': run.scheduled_at,
          'nightshift.first_attempt': run.attempts.length + 1,
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.name': agent.agent_id,
        },
      },
      ROOT_CONTEXT,
    );
    const traceId = span.spanContext().traceId;
    this.#active.set(run.run_id, traceId);
    const parent = trace.setSpan(ROOT_CONTEXT, span);
    /** Attempts not ended yet: the run's end ends them (this process lost the run meanwhile). */
    const open = new Set<(status: string, error: ErrorInfo | null) => void>();
    return {
      traceId,
      startAttempt: (attempt, resumedFrom) =>
        this.#startAttempt(exported, parent, agent, run.run_id, attempt, resumedFrom, open),
      end: (ended) => {
        for (const endAttempt of [...open]) endAttempt(ended.status, ended.error);
        span.setAttributes({
          'nightshift.status': ended.status,
          'nightshift.attempts': ended.attempts.length,
          'nightshift.usage.requests': ended.usage.requests,
          'nightshift.usage.input_tokens': ended.usage.input_tokens,
          'nightshift.usage.output_tokens': ended.usage.output_tokens,
          'nightshift.usage.total_tokens': ended.usage.total_tokens,
          ...(ended.usage.cost_usd === undefined
            ? {}
            : { 'nightshift.usage.cost_usd': ended.usage.cost_usd }),
        });
        endWith(span, ended.status, ended.error);
        this.#active.delete(run.run_id);
        this.#remember(run.run_id, span.spanContext());
      },
    };
  }

  /** Sends the spans buffered so far. */
  async flush(): Promise<void> {
    await this.#starting;
    await this.#export?.flush().catch(() => undefined);
  }

  /**
   * Sends what is buffered and stops exporting (the service's shutdown), waiting `timeoutMs` at
   * most: a collector that is down does not hold the shutdown up.
   */
  async shutdown(timeoutMs = DEFAULT_SHUTDOWN_FLUSH_MS): Promise<void> {
    await this.#starting;
    if (!this.#export) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#export.shutdown().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  #startAttempt(
    exported: TraceExport,
    parent: Context,
    agent: AgentRecord,
    runId: string,
    attempt: number,
    resumedFrom: string | null | undefined,
    open: Set<(status: string, error: ErrorInfo | null) => void>,
  ): AttemptTrace {
    const attributes: Attributes = {
      'nightshift.agent_id': agent.agent_id,
      'nightshift.run_id': runId,
      'nightshift.attempt': attempt,
      ...(resumedFrom === undefined
        ? {}
        : { 'nightshift.resumed': true, 'nightshift.resumed_from': resumedFrom ?? '' }),
    };
    const span = exported.tracer.startSpan('nightshift.attempt', { attributes }, parent);
    const capture = this.#captureContent;
    const telemetry: AgentTelemetry = {
      isEnabled: true,
      tracer: parentedTracer(exported.tracer, trace.setSpan(parent, span)),
      recordInputs: capture,
      recordOutputs: capture,
      functionId: agent.agent_id,
      metadata: { agent_id: agent.agent_id, run_id: runId, attempt },
    };
    let ended = false;
    const end = (status: string, error: ErrorInfo | null) => {
      if (ended) return;
      ended = true;
      open.delete(end);
      span.setAttribute('nightshift.status', status);
      endWith(span, status, error);
    };
    open.add(end);
    return { telemetry, options: { telemetry }, end };
  }

  #remember(runId: string, spanContext: SpanContext): void {
    this.#lastStretch.delete(runId);
    if (this.#lastStretch.size >= MAX_REMEMBERED_STRETCHES) {
      const oldest = this.#lastStretch.keys().next().value;
      if (oldest !== undefined) this.#lastStretch.delete(oldest);
    }
    this.#lastStretch.set(runId, spanContext);
  }
}

/**
 * Ends a span with a status: `completed` is OK, a wait is neither (unset), anything else an
 * error, its code as `error.type` and its message as the status message (and an event).
 */
function endWith(span: Span, status: string, error: ErrorInfo | null): void {
  if (status === 'completed') span.setStatus({ code: SpanStatusCode.OK });
  else if (!WAITING.has(status) && status !== 'running') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message ?? status });
  }
  if (error) {
    if (!WAITING.has(status)) span.setAttribute('error.type', error.code);
    span.addEvent(WAITING.has(status) ? 'nightshift.wait' : 'nightshift.error', {
      'nightshift.error.code': error.code,
      'nightshift.error.message': error.message,
    });
  }
  span.end();
}

/**
 * `tracer` with spans that have no parent of this trace made children of `parent` (the
 * attempt's span): the AI SDK starts its spans from the active context, which inside a run is
 * the host's (no span, or a span of another trace), never the attempt's. A span whose parent
 * is of the same trace (the SDK's own nesting, through the context manager) keeps it.
 */
function parentedTracer(tracer: Tracer, parent: Context): Tracer {
  const traceId = trace.getSpan(parent)?.spanContext().traceId;
  const parentOf = (given: Context | undefined): Context => {
    const candidate = given ?? context.active();
    return trace.getSpan(candidate)?.spanContext().traceId === traceId ? candidate : parent;
  };
  function startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const fn = rest.at(-1) as F;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : {};
    const given = rest.length > 2 ? (rest[1] as Context) : undefined;
    const within = parentOf(given);
    const span = tracer.startSpan(name, options, within);
    return context.with(trace.setSpan(within, span), () => fn(span)) as ReturnType<F>;
  }
  return {
    startSpan: (name, options, given) => tracer.startSpan(name, options, parentOf(given)),
    startActiveSpan,
  };
}

/** Tracing off: no spans, no trace ids. */
export const TRACING_OFF = new RunTracing(undefined);

/** Tracing of a service: off without settings. */
export function runTracing(
  exported: TraceExport | Promise<TraceExport | undefined> | undefined,
  captureContent: boolean,
): RunTracing {
  return exported ? new RunTracing(exported, captureContent) : TRACING_OFF;
}
