/**
 * Routers whose store and event log time every call while switched on, so a benchmark can say
 * which storage calls a scenario's time went to (calls made, latency, time in flight).
 */
import {
  EventRouter,
  MemoryRouter,
  type EventLog,
  type EventRouterOptions,
  type EventBackendKind,
  type MemoryBackendKind,
  type MemoryRouterOptions,
  type Store,
} from '../src/index.js';
import { percentile } from './measure.js';

/** One storage call's figures over the time the timer was on (plain numbers, for IPC). */
export interface CallTiming {
  /** `domain.method`, e.g. `runs.update`, `events.append`. */
  call: string;
  count: number;
  meanMs: number;
  p99Ms: number;
  /** Milliseconds spent in such calls, summed (calls overlap: it can exceed the time on). */
  totalMs: number;
}

/** Collects the durations of storage calls that start while it is on. */
export class CallTimer {
  readonly #durations = new Map<string, number[]>();
  #on = false;

  /** Starts (or stops) recording calls that start from now on. */
  switch(on: boolean): void {
    this.#on = on;
  }

  /** Calls `work`, recording its duration under `call` if it returns a promise while on. */
  time<T>(call: string, work: () => T): T {
    if (!this.#on) return work();
    const started = performance.now();
    const result = work();
    if (!(result instanceof Promise)) return result;
    const record = () => {
      const durations = this.#durations.get(call) ?? [];
      durations.push(performance.now() - started);
      this.#durations.set(call, durations);
    };
    void result.then(record, record);
    return result;
  }

  /** The figures of every call recorded, most time in flight first. */
  timings(): CallTiming[] {
    return [...this.#durations]
      .map(([call, durations]) => {
        const totalMs = durations.reduce((sum, duration) => sum + duration, 0);
        return {
          call,
          count: durations.length,
          meanMs: totalMs / durations.length,
          p99Ms: percentile(durations, 99),
          totalMs,
        };
      })
      .sort((a, b) => b.totalMs - a.totalMs);
  }
}

/** The object with every method's calls timed as `name.method`. */
function timedObject<T extends object>(name: string, target: T, timer: CallTimer): T {
  return new Proxy(target, {
    get(object, key, receiver) {
      const value: unknown = Reflect.get(object, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        timer.time(`${name}.${String(key)}`, () => Reflect.apply(value, object, args) as unknown);
    },
  });
}

/** A {@link MemoryRouter} whose store's calls (`agents.*`, `runs.*`, …) are timed by `timer`. */
export class TimedMemoryRouter extends MemoryRouter {
  readonly #timer: CallTimer;
  #timed: { store: Store; timed: Store } | undefined;

  constructor(timer: CallTimer, kind: MemoryBackendKind, options?: MemoryRouterOptions) {
    super(kind, options);
    this.#timer = timer;
  }

  override async connect(): Promise<Store> {
    const store = await super.connect();
    if (this.#timed?.store !== store) {
      const timer = this.#timer;
      const timed: Store = {
        agents: timedObject('agents', store.agents, timer),
        runs: timedObject('runs', store.runs, timer),
        messages: timedObject('messages', store.messages, timer),
        leases: timedObject('leases', store.leases, timer),
        budgets: timedObject('budgets', store.budgets, timer),
        approvals: timedObject('approvals', store.approvals, timer),
        phases: timedObject('phases', store.phases, timer),
        description: store.description,
        close: () => store.close(),
      };
      this.#timed = { store, timed };
    }
    return this.#timed.timed;
  }
}

/** An {@link EventRouter} whose log's calls (`events.append`, …) are timed by `timer`. */
export class TimedEventRouter extends EventRouter {
  readonly #timer: CallTimer;
  #timed: { log: EventLog; timed: EventLog } | undefined;

  constructor(timer: CallTimer, kind: EventBackendKind, options?: EventRouterOptions) {
    super(kind, options);
    this.#timer = timer;
  }

  override async connect(): Promise<EventLog> {
    const log = await super.connect();
    if (this.#timed?.log !== log)
      this.#timed = { log, timed: timedObject('events', log, this.#timer) };
    return this.#timed.timed;
  }
}
