import type { Redactor } from './redactor.js';
import type {
  EventLog,
  EventPayloads,
  EventType,
  NewEvent,
  NightshiftEvent,
} from '../storage/contracts/index.js';

/** Wraps payloads in the event envelope, redacts secrets, and appends them to the log. */
export class EventPublisher {
  readonly #log: EventLog;
  readonly #now: () => Date;
  readonly #redactor: Redactor;
  readonly #traceIdOf: (runId: string | null) => string | undefined;

  /** `traceIdOf`: the trace of a run being traced, whose events carry its `trace_id`. */
  constructor(
    log: EventLog,
    now: () => Date,
    redactor: Redactor,
    traceIdOf: (runId: string | null) => string | undefined = () => undefined,
  ) {
    this.#log = log;
    this.#now = now;
    this.#redactor = redactor;
    this.#traceIdOf = traceIdOf;
  }

  /** Appends one event; resolves once it is recorded (so callers keep per-run order by awaiting). */
  publish<T extends EventType>(
    type: T,
    agentId: string,
    runId: string | null,
    payload: EventPayloads[T],
  ): Promise<NightshiftEvent> {
    const traceId = this.#traceIdOf(runId);
    const event = {
      type,
      agent_id: agentId,
      run_id: runId,
      timestamp: this.#now().toISOString(),
      payload: this.#redactor.redact(traceId ? { ...payload, trace_id: traceId } : payload),
    } as NewEvent;
    return this.#log.append(event);
  }
}
