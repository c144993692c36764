import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorMessage } from '../errors.js';
import type { BackgroundAgentService } from '../service/index.js';
import { errorBody, errorResponse } from './api-error.js';
import { resolveAppOptions, type AppOptions } from './app-options.js';
import { dashboardApiRoutes } from './dashboard/dashboard-api-routes.js';
import { hostGuard } from './host-guard.js';
import { FleetMetrics } from './metrics/fleet-metrics.js';
import { followFleetEvents } from './metrics/follow-fleet-events.js';
import { originGuard } from './origin-guard.js';
import { jsonContentType } from './request-body.js';
import { agentActionRoutes } from './routes/agent-action-routes.js';
import { agentRoutes } from './routes/agent-routes.js';
import { approvalRoutes } from './routes/approval-routes.js';
import { budgetRoutes } from './routes/budget-routes.js';
import { dashboardRoutes } from './routes/dashboard-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { metricsRoute } from './routes/metrics-route.js';
import { openApiRoute } from './routes/openapi-route.js';
import { runRoutes } from './routes/run-routes.js';
import { replayRoutes } from './routes/replay-routes.js';
import { retentionRoutes } from './routes/retention-routes.js';
import { workerRoutes } from './routes/worker-routes.js';
import { securityHeaders } from './security-headers.js';
import type { ServerContext, ServerEnvironment } from './server-context.js';
import { tokenGuard } from './token-guard.js';

/**
 * The HTTP app over a service: the JSON API under `/api`, server-sent events, `/metrics`,
 * `/openapi.json`, health probes and the dashboard. Its metrics follow the fleet's events from
 * now until `options.signal` aborts.
 */
export function createApp(
  service: BackgroundAgentService,
  options: AppOptions = {},
): Hono<ServerEnvironment> {
  const resolved = resolveAppOptions(options);
  const context: ServerContext = { service, options: resolved, metrics: new FleetMetrics() };
  void followFleetEvents(service, context.metrics, {
    signal: resolved.signal ?? new AbortController().signal,
    logger: resolved.logger,
  });

  const app = new Hono<ServerEnvironment>();
  app.use('*', securityHeaders());
  app.use('*', hostGuard(resolved.host, resolved.allowedHosts));
  app.use('*', originGuard());
  if (resolved.token !== undefined) {
    app.use('/api/*', tokenGuard(resolved.token));
    app.use('/metrics', tokenGuard(resolved.token));
  }
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: resolved.bodyLimitBytes,
      onError: (c) =>
        c.json(
          errorBody(
            'payload_too_large',
            `the request body is larger than ${resolved.bodyLimitBytes} bytes`,
          ),
          413,
        ),
    }),
  );
  app.use('/api/*', jsonContentType());

  app.route('/api', agentRoutes(context));
  app.route('/api', agentActionRoutes(context));
  app.route('/api', runRoutes(context));
  app.route('/api', replayRoutes(context));
  app.route('/api', eventRoutes(context));
  app.route('/api', workerRoutes(context));
  app.route('/api', budgetRoutes(context));
  app.route('/api', approvalRoutes(context));
  app.route('/api', retentionRoutes(context));
  app.route('/api', dashboardApiRoutes(context));
  app.route('/', metricsRoute(context));
  app.route('/', healthRoutes(context));
  app.route('/', openApiRoute());
  app.route('/', dashboardRoutes(context));

  app.notFound((c) =>
    c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404),
  );
  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    if (status >= 500) {
      resolved.logger.error(
        { err: errorMessage(error), method: c.req.method, path: c.req.path },
        'nightshift server: request failed',
      );
    }
    return c.json(body, status);
  });
  return app;
}
