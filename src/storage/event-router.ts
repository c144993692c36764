import { locateBackend } from './backend-registry.js';
import { BackendRouter } from './backend-router.js';
import type { EventLog } from './contracts/index.js';
import type { DatabaseUrlOptions } from './database-url.js';
import type { BackendOptions, EventBackendKind } from './storage-backend.js';

export type { EventBackendKind } from './storage-backend.js';

/** Options of {@link EventRouter}. */
export interface EventRouterOptions extends DatabaseUrlOptions, BackendOptions {}

/**
 * Chooses the backend of the event log from a kind and a URL (`backend-registry.ts`), and
 * opens it on `connect()`. Bad kinds and URLs fail on construction.
 */
export class EventRouter extends BackendRouter<EventBackendKind, EventLog> {
  constructor(kind: EventBackendKind, options: EventRouterOptions = {}) {
    const target = locateBackend('event', kind, options);
    const { namespace, maxEvents, pollIntervalMs } = options;
    super(kind, target.description, () =>
      target.openEventLog({ namespace, maxEvents, pollIntervalMs }),
    );
  }
}
