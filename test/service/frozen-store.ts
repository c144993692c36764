import type { Store } from '../../src/index.js';

/** The call at which a {@link FrozenStore} froze: the method and its arguments. */
export interface FrozenAt {
  method: string;
  args: unknown[];
}

/** Says whether a write is the one a {@link FrozenStore} dies at (`write`: 1 for the first since armed). */
export type FreezePoint = (method: string, args: unknown[], write: number) => boolean;

/**
 * A store that dies at a chosen write (see `arm`), as a process killed at that instant would: the
 * write and every call after it (reads too) never settle, so nothing the process does from then
 * on reaches the store, while the work in flight (a tool already running) goes on as it would
 * in the moment before a SIGKILL lands. `bury()` then fails every call, so the dead process's
 * leftovers end at test cleanup without writing anything.
 */
export class FrozenStore {
  readonly store: Store;
  frozenAt: FrozenAt | undefined;
  #writes = 0;
  #point: FreezePoint | undefined;
  #buried = false;
  readonly #pending: ((error: Error) => void)[] = [];

  constructor(inner: Store) {
    const wrap = <T extends object>(target: T, reads: readonly string[]): T =>
      new Proxy(target, {
        get: (object, property, receiver) => {
          const value: unknown = Reflect.get(object, property, receiver);
          if (typeof value !== 'function') return value;
          const method = String(property);
          return (...args: unknown[]) => {
            if (this.#buried) return Promise.reject(new Error('the process is dead'));
            if (!this.frozenAt && !reads.includes(method)) {
              this.#writes += 1;
              if (this.#point?.(method, args, this.#writes)) this.frozenAt = { method, args };
            }
            if (this.frozenAt) {
              return new Promise((_, reject) => this.#pending.push(reject));
            }
            return (value as (...params: unknown[]) => unknown).apply(object, args);
          };
        },
      });
    this.store = {
      description: inner.description,
      close: () => Promise.resolve(),
      agents: wrap(inner.agents, ['get', 'list']),
      runs: wrap(inner.runs, ['get', 'list', 'listUnfinished', 'listSteps']),
      messages: wrap(inner.messages, ['list']),
      leases: wrap(inner.leases, ['holder', 'get']),
      budgets: wrap(inner.budgets, ['holdsOf', 'counters', 'listGrants']),
      approvals: wrap(inner.approvals, ['get', 'list']),
      phases: wrap(inner.phases, []),
    };
  }

  /** Dies at the first write from now on that `point` picks. */
  arm(point: FreezePoint): void {
    this.#writes = 0;
    this.#point = point;
  }

  /** Dies now: the next call never settles. */
  freezeNow(): void {
    this.frozenAt ??= { method: 'now', args: [] };
  }

  get frozen(): boolean {
    return this.frozenAt !== undefined;
  }

  /** Fails every call left hanging, and every call from now on. */
  bury(): void {
    this.#buried = true;
    for (const reject of this.#pending.splice(0)) reject(new Error('the process is dead'));
  }
}
