/** Writes a batch of items in one call; resolves with one result per item, in their order. */
export type BatchWrite<Item, Result> = (items: readonly Item[]) => Promise<readonly Result[]>;

/** Writes items many to a call; see {@link groupCommit}. */
export interface GroupCommit<Item, Result> {
  /** Queues an item for the next batch; resolves with its result once that batch is written. */
  write(item: Item): Promise<Result>;
  /** Resolves once every item queued so far is written or has failed. */
  drain(): Promise<void>;
}

interface Queued<Item, Result> {
  item: Item;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

/**
 * Group commit. The first item waits only for a microtask, so items written together go
 * together; items that arrive while a batch is being written queue up, and the next batch
 * takes them all (at most `maxBatch`) as soon as that one is written. One batch is in flight
 * at a time, so batches are written in the order `write` was called. A batch that fails
 * fails each of its items with the same error; later batches are written as usual.
 */
export function groupCommit<Item, Result>(
  writeBatch: BatchWrite<Item, Result>,
  maxBatch: number,
): GroupCommit<Item, Result> {
  const queue: Queued<Item, Result>[] = [];
  let flushing: Promise<void> | undefined;

  async function flush(): Promise<void> {
    await Promise.resolve();
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      try {
        const results = await writeBatch(batch.map((queued) => queued.item));
        batch.forEach((queued, index) => queued.resolve(results[index]!));
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
  }

  function schedule(): void {
    flushing ??= flush().finally(() => {
      flushing = undefined;
      // Written after the last batch was taken, before this settled: they go next.
      if (queue.length > 0) schedule();
    });
  }

  return {
    write(item) {
      return new Promise<Result>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    async drain() {
      while (flushing) await flushing;
    },
  };
}
