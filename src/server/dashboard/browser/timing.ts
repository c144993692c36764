/** Runs work at most once every ms, however often it is asked (the last ask is never lost). */
export function throttle(work: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = 0;
  return () => {
    if (timer !== null) return;
    timer = setTimeout(
      () => {
        timer = null;
        last = Date.now();
        work();
      },
      Math.max(0, last + ms - Date.now()),
    );
  };
}

/** Runs work once things have been quiet for ms, however often it is asked. */
export function debounce(work: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(work, ms);
  };
}
