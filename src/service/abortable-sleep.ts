/** Waits `milliseconds`, or less when `signal` aborts first (then resolves false). */
export function abortableSleep(milliseconds: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** True when `work` settles within `milliseconds`; false when the time runs out first. */
export async function settledWithin(
  work: Promise<unknown>,
  milliseconds: number,
): Promise<boolean> {
  const timeUp = new AbortController();
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    abortableSleep(milliseconds, timeUp.signal).then(() => false),
  ]);
  timeUp.abort();
  return settled;
}
