import type { BackgroundAgentService, ServiceLogger } from '../../service/index.js';
import type { NightshiftEvent, Usage } from '../../storage/contracts/index.js';
import { errorMessage, NightshiftError } from '../../errors.js';
import type { CostModel, FleetMetrics } from './fleet-metrics.js';

/** How long to wait before following again after the event stream failed. */
const RETRY_DELAY_MS = 1000;

/**
 * Follows the fleet-wide event stream from now on and moves the metrics with it, until
 * `signal` aborts. When the stream fails (a store hiccup) it resumes after the last event
 * it saw, so no event is lost or counted twice.
 */
export async function followFleetEvents(
  service: BackgroundAgentService,
  metrics: FleetMetrics,
  options: { signal: AbortSignal; logger: ServiceLogger },
): Promise<void> {
  let lastId: string | undefined;
  while (!options.signal.aborted) {
    try {
      const events = service.streamAgentEvents(undefined, {
        since: lastId,
        signal: options.signal,
      });
      for await (const event of events) {
        lastId = event.id;
        await observe(service, metrics, event);
      }
    } catch (error) {
      if (NightshiftError.isInstance(error) && error.code === 'shutting_down') return;
      options.logger.warn(
        { err: errorMessage(error) },
        'nightshift server: following events for metrics failed; retrying',
      );
    }
    if (options.signal.aborted) return;
    await delay(RETRY_DELAY_MS, options.signal);
  }
}

async function observe(
  service: BackgroundAgentService,
  metrics: FleetMetrics,
  event: NightshiftEvent,
): Promise<void> {
  switch (event.type) {
    case 'background_task_started':
      if (event.payload.trigger === 'schedule' && event.payload.attempt === 1) {
        metrics.recordLateness(
          event.agent_id,
          Date.parse(event.timestamp) - Date.parse(event.payload.scheduled_at),
        );
      }
      return;
    case 'background_task_completed':
      metrics.recordRunEnded(
        event.agent_id,
        'completed',
        event.payload.duration_ms,
        event.payload.usage,
        await costModelOf(service, event.agent_id, event.payload.usage),
      );
      return;
    case 'background_task_error': {
      if (event.payload.will_retry) return;
      // The error event carries neither usage nor duration; the run record has both (its
      // attempts and usage are written before the event is published).
      const run = event.run_id
        ? await service.getRun(event.run_id).catch(() => undefined)
        : undefined;
      const startedAt = run?.started_at ? Date.parse(run.started_at) : Date.parse(event.timestamp);
      metrics.recordRunEnded(
        event.agent_id,
        event.payload.status,
        Date.parse(event.timestamp) - startedAt,
        run?.usage,
        await costModelOf(service, event.agent_id, run?.usage),
      );
      return;
    }
    case 'background_task_skipped':
      metrics.recordSkipped(event.agent_id);
      return;
    case 'background_task_missed':
      metrics.recordMissed(event.agent_id, event.payload.missed);
      return;
    case 'guardrail_triggered':
      metrics.recordGuardrailHit(event.agent_id, event.payload);
      return;
    default:
      return;
  }
}

/**
 * The provider and model a run's cost is counted under: its agent's, read only for a run that
 * has a cost (the event and the run record do not name the model). `unknown` for an agent gone.
 */
async function costModelOf(
  service: BackgroundAgentService,
  agentId: string,
  usage: Usage | undefined,
): Promise<CostModel | undefined> {
  if (usage?.cost_usd === undefined) return undefined;
  const definition = await service.getAgentDefinition(agentId).catch(() => undefined);
  if (!definition) return { provider: 'unknown', model: 'unknown' };
  const { provider, model } = definition.model_config;
  return { provider, model };
}

function delay(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, milliseconds);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
