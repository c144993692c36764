/**
 * What {@link MemoryRouter} and {@link EventRouter} share: the kind they were given, where it
 * points, and a resource opened on first use and handed out until it is closed.
 */
export abstract class BackendRouter<
  Kind extends string,
  Resource extends { close(): Promise<void> },
> {
  /** The backend kind. */
  readonly kind: Kind;
  /** Where the data lives, safe to print (passwords masked). */
  readonly description: string;
  readonly #open: () => Resource;
  #resource: Resource | undefined;

  protected constructor(kind: Kind, description: string, open: () => Resource) {
    this.kind = kind;
    this.description = description;
    this.#open = open;
  }

  /** Opens the backend; every call until `close()` returns the same one. */
  async connect(): Promise<Resource> {
    this.#resource ??= this.#open();
    return this.#resource;
  }

  /** Closes the backend if it is open; a later `connect()` opens a new one. */
  async close(): Promise<void> {
    const resource = this.#resource;
    this.#resource = undefined;
    await resource?.close();
  }
}
