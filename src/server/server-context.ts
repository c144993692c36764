import type { HttpBindings } from '@hono/node-server';
import type { BackgroundAgentService } from '../service/index.js';
import type { ResolvedAppOptions } from './app-options.js';
import type { FleetMetrics } from './metrics/fleet-metrics.js';

/** What every route of one app shares. */
export interface ServerContext {
  service: BackgroundAgentService;
  options: ResolvedAppOptions;
  metrics: FleetMetrics;
}

/**
 * Hono's environment on Node: the raw request and response are at hand (`c.env.incoming`).
 * They are absent when the app is driven by `app.request()` without a server, so reads of
 * them are guarded.
 */
export interface ServerEnvironment {
  Bindings: Partial<HttpBindings>;
}
