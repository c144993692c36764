import { describe, expect, it } from 'vitest';
import { groupCommit } from '../../src/storage/group-commit.js';

/** A batch writer that records each batch and answers each item doubled, when released. */
function recordingWriter() {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  let failNext: Error | undefined;
  const write = (items: readonly number[]) => {
    batches.push([...items]);
    const error = failNext;
    failNext = undefined;
    return new Promise<number[]>((resolve, reject) =>
      pending.push(() => (error ? reject(error) : resolve(items.map((item) => item * 2)))),
    );
  };
  return {
    batches,
    write,
    failNextBatch: (error: Error) => (failNext = error),
    /** Lets the oldest batch in flight finish. */
    release: () => pending.shift()?.(),
    inFlight: () => pending.length,
  };
}

describe('groupCommit', () => {
  it('writes items made together in one batch, and those made meanwhile in the next', async () => {
    const writer = recordingWriter();
    const commit = groupCommit(writer.write, 100);
    const first = [1, 2, 3].map((item) => commit.write(item));
    await expect.poll(() => writer.inFlight()).toBe(1);
    const second = [4, 5].map((item) => commit.write(item));
    // One batch at a time: the second waits for the first.
    expect(writer.batches).toEqual([[1, 2, 3]]);
    writer.release();
    expect(await Promise.all(first)).toEqual([2, 4, 6]);
    await expect.poll(() => writer.inFlight()).toBe(1);
    writer.release();
    expect(await Promise.all(second)).toEqual([8, 10]);
    expect(writer.batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('takes at most maxBatch items a batch, in the order they were written', async () => {
    const writer = recordingWriter();
    const commit = groupCommit(writer.write, 2);
    const results = [1, 2, 3, 4, 5].map((item) => commit.write(item));
    for (let batch = 0; batch < 3; batch += 1) {
      await expect.poll(() => writer.inFlight()).toBe(1);
      writer.release();
    }
    expect(await Promise.all(results)).toEqual([2, 4, 6, 8, 10]);
    expect(writer.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails the items of a failed batch only, and goes on with the next', async () => {
    const writer = recordingWriter();
    const commit = groupCommit(writer.write, 100);
    writer.failNextBatch(new Error('refused'));
    const failed = [1, 2].map((item) => commit.write(item));
    await expect.poll(() => writer.inFlight()).toBe(1);
    const next = commit.write(3);
    writer.release();
    await Promise.all(failed.map((result) => expect(result).rejects.toThrow('refused')));
    await expect.poll(() => writer.inFlight()).toBe(1);
    writer.release();
    expect(await next).toBe(6);
  });

  it('writes an item made just as the last batch finished, and drains', async () => {
    const writer = recordingWriter();
    const commit = groupCommit(writer.write, 100);
    const first = commit.write(1);
    await expect.poll(() => writer.inFlight()).toBe(1);
    writer.release();
    // Made once the batch is written, before the flush that wrote it has settled.
    const late = first.then(() => commit.write(2));
    await expect.poll(() => writer.inFlight()).toBe(1);
    const drained = commit.drain();
    writer.release();
    await drained;
    expect(await late).toBe(4);
    expect(writer.batches).toEqual([[1], [2]]);
  });
});
