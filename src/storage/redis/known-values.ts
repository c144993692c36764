/**
 * The values this process last wrote (or read) under some keys, as JSON text: the expected
 * value of a compare-and-set sent without reading the key first. A guess, never trusted: the
 * compare-and-set checks it, and when another process changed the key meanwhile it fails and
 * the caller reads the key as usual. Bounded: the least recently remembered go first.
 */
export class KnownValues {
  readonly #values = new Map<string, string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  remember(key: string, value: string): void {
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
  take(key: string): string | undefined {
    const value = this.#values.get(key);
    this.#values.delete(key);
    return value;
  }
}
