/**
 * What the runtime suites share: the echo tool and the mock model of one run (a tool call, then
 * the answer), the limits the service gives a run, and a counter of store calls.
 */
import { z } from 'zod';
import { createMemoryEventLog, type ToolDefinition } from '../src/index.js';
import { EventPublisher } from '../src/service/event-publisher.js';
import { Redactor } from '../src/service/redactor.js';
import { mockModel } from '../test/agent/mock-model.js';
import { BENCH_SECRET } from './fixtures.js';

/** What the service gives `runAgent` as its hard timeout by default (task_config.timeout, 300 s). */
export const RUN_TIMEOUT_MS = 300_000;
/** The in-memory event log's default cap: a long-running service's log is always this full. */
export const EVENT_LOG_CAP = 10_000;

export const echoInput = z.object({ text: z.string() });

/** A tool that returns its input. */
export const echo: ToolDefinition<z.infer<typeof echoInput>> = {
  description: 'Returns its input.',
  inputSchema: echoInput,
  execute: ({ text }) => ({ echo: text }),
};

/** The tools of the echo run, by name. */
export function echoTools(): Map<string, ToolDefinition> {
  return new Map<string, ToolDefinition>([['echo', echo]]);
}

/**
 * Events published as the service publishes them (one secret to redact) into a memory event log
 * of their own, already at its cap as a long-running service's is.
 */
export async function publisherAtCap(agentId: string, message: string): Promise<EventPublisher> {
  const log = createMemoryEventLog();
  for (let index = 0; index < EVENT_LOG_CAP; index += 1) {
    await log.append({
      type: 'user_message',
      agent_id: agentId,
      run_id: null,
      timestamp: new Date().toISOString(),
      payload: { message },
    });
  }
  const redactor = new Redactor();
  redactor.add(BENCH_SECRET);
  return new EventPublisher(log, () => new Date(), redactor);
}

/** A fresh model per run, so every path sees call 0 (a tool call), then call 1 (the answer). */
export function newModel() {
  return mockModel([{ tools: [{ name: 'echo', args: { text: 'ping' } }] }, { text: 'done' }]);
}

/** Store method calls made through counted stores: in all, and by `store.method`. */
export class CallCounter {
  total = 0;
  readonly byMethod = new Map<string, number>();

  /** Calls counted so far as `<prefix>.<method>`, for every method starting with `prefix`. */
  callsOf(prefix: string): number {
    let calls = 0;
    for (const [method, count] of this.byMethod)
      if (method.startsWith(`${prefix}.`)) calls += count;
    return calls;
  }

  /** `target` with each of its method calls counted as `<prefix>.<method>`, then forwarded. */
  wrap<T extends object>(prefix: string, target: T): T {
    const forwards = new Map<PropertyKey, unknown>();
    return new Proxy(target, {
      get: (object, property) => {
        const value: unknown = Reflect.get(object, property, object);
        if (typeof value !== 'function') return value;
        let forward = forwards.get(property);
        if (forward === undefined) {
          const name = `${prefix}.${String(property)}`;
          forward = (...args: unknown[]): unknown => {
            this.total += 1;
            this.byMethod.set(name, (this.byMethod.get(name) ?? 0) + 1);
            return Reflect.apply(value, object, args);
          };
          forwards.set(property, forward);
        }
        return forward;
      },
    });
  }
}
