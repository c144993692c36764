import { locateBackend } from './backend-registry.js';
import { BackendRouter } from './backend-router.js';
import type { Store } from './contracts/index.js';
import type { DatabaseUrlOptions } from './database-url.js';
import type { BackendOptions, MemoryBackendKind } from './storage-backend.js';

export type { MemoryBackendKind } from './storage-backend.js';

/** Options of {@link MemoryRouter}. */
export interface MemoryRouterOptions
  extends DatabaseUrlOptions, Pick<BackendOptions, 'namespace'> {}

/**
 * Chooses the backend of the service's memory (agents, runs, messages, leases) from a
 * kind and a URL (`backend-registry.ts`), and opens it on `connect()`. Bad kinds and URLs
 * fail on construction.
 */
export class MemoryRouter extends BackendRouter<MemoryBackendKind, Store> {
  constructor(kind: MemoryBackendKind, options: MemoryRouterOptions = {}) {
    const target = locateBackend('memory', kind, options);
    super(kind, target.description, () => target.openStore({ namespace: options.namespace }));
  }
}
