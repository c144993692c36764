/**
 * What this process last wrote (or read) under some keys, as it wrote it: the expected value
 * of a compare-and-set sent without reading the key first. A guess, never trusted: the
 * compare-and-set checks it, and when another process changed the key meanwhile it fails and
 * the caller reads the key as usual. Bounded: the least recently remembered go first.
 */
export class KnownValues<Value = string> {
  readonly #values = new Map<string, Value>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  remember(key: string, value: Value): void {
    this.#values.delete(key);
    this.#values.set(key, value);
    if (this.#values.size > this.#capacity) {
      const oldest = this.#values.keys().next().value;
      if (oldest !== undefined) this.#values.delete(oldest);
    }
  }

  forget(key: string): void {
    this.#values.delete(key);
  }

  /** The value remembered under `key`, forgotten from now on (it is about to change). */
  take(key: string): Value | undefined {
    const value = this.#values.get(key);
    this.#values.delete(key);
    return value;
  }

  /**
   * The current value for each try of a read-modify-write: on the first, the one remembered
   * under `key` if any (`guessed`: a condition it fails must be judged again on a read); on
   * the others, and when none is remembered, `read()`.
   */
  firstThenRead(
    key: string,
    read: () => Promise<Value | null>,
  ): () => Promise<{ value: Value | null; guessed: boolean }> {
    let guess = this.take(key);
    return async () => {
      if (guess === undefined) return { value: await read(), guessed: false };
      const value = guess;
      guess = undefined;
      return { value, guessed: true };
    };
  }
}
