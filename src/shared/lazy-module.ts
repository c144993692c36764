import { createRequire } from 'node:module';

/**
 * A dependency loaded on first use rather than when the package is imported: the drivers,
 * SDKs and providers a deployment may never use (ioredis, BullMQ, the MCP SDK, OpenTelemetry,
 * the hosted model providers) would otherwise cost every process their memory and start-up
 * time. `load()` imports once and hands every caller the same promise; a failed import is
 * not kept, so a later call tries again.
 */
export interface LazyModule<T> {
  load(): Promise<T>;
  /**
   * The module once a `load()` has finished, else undefined. For synchronous checks such as
   * `instanceof` on the module's error classes: while it is not loaded, nothing can be one.
   */
  loaded(): T | undefined;
}

export function lazyModule<T>(importModule: () => Promise<T>): LazyModule<T> {
  let loading: Promise<T> | undefined;
  let module: T | undefined;
  return {
    load() {
      loading ??= importModule().then(
        (imported) => {
          module = imported;
          return imported;
        },
        (error: unknown) => {
          loading = undefined;
          throw error;
        },
      );
      return loading;
    },
    loaded: () => module,
  };
}

const requireFromHere = createRequire(import.meta.url);

/**
 * A CommonJS dependency loaded by its first synchronous use: for code that must build its
 * objects at once (a pool whose identity others key on). `require` hands back the very module
 * an `import` of the same package elsewhere gets (Node keeps one instance of a CommonJS
 * module), so patches and `instanceof` checks made through either agree.
 */
export interface LazyRequire<T> {
  (): T;
  /** The module once a call has loaded it, else undefined. */
  loaded(): T | undefined;
}

export function lazyRequire<T>(specifier: string): LazyRequire<T> {
  let module: T | undefined;
  const load = () => (module ??= requireFromHere(specifier) as T);
  return Object.assign(load, { loaded: () => module });
}
