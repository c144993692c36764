/** Thrown by {@link raceDeadline} when the time is up before the work settles. */
export class DeadlineExceeded extends Error {
  constructor(readonly milliseconds: number) {
    super(`no answer within ${milliseconds} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * Settles with `work`, unless `milliseconds` pass first (rejects with {@link DeadlineExceeded})
 * or `signal` aborts first (rejects with its reason). The work itself is not stopped: the caller
 * owns whatever must be torn down.
 */
export function raceDeadline<T>(
  work: Promise<T>,
  options: { milliseconds?: number; signal?: AbortSignal },
): Promise<T> {
  const { milliseconds, signal } = options;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      // The work may still reject later; nobody is listening for that any more.
      work.catch(() => undefined);
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      cleanup();
      reject(signal?.reason);
    };
    const timer =
      milliseconds === undefined
        ? undefined
        : setTimeout(() => {
            cleanup();
            reject(new DeadlineExceeded(milliseconds));
          }, milliseconds);
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}
