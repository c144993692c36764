import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AgentStatus } from '../../service/index.js';
import type { Usage } from '../../storage/contracts/index.js';
import { RetentionMetrics } from './retention-metrics.js';

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
/** The model a run's cost is counted under (its agent's `model_config` when the run ended). */
export interface CostModel {
  provider: string;
  model: string;
}

const LATENESS_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The fleet's Prometheus metrics, in a registry of their own (never prom-client's global one,
 * so two apps in one process, or the host application's metrics, never collide).
 * Counters and histograms move with the event stream; gauges are set from a status snapshot
 * taken at each scrape.
 */
export class FleetMetrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  readonly #runs: Counter<'agent_id' | 'status'>;
  readonly #duration: Histogram<'agent_id' | 'status'>;
  readonly #lateness: Histogram<'agent_id'>;
  readonly #tokens: Counter<'agent_id'>;
  readonly #requests: Counter<'agent_id'>;
  readonly #cost: Counter<'agent_id' | 'provider' | 'model'>;
  readonly #skipped: Counter<'agent_id'>;
  readonly #missed: Counter<'agent_id'>;
  readonly #guardrailHits: Counter<'agent_id' | 'check' | 'action' | 'where'>;
  readonly #inFlight: Gauge<'agent_id'>;
  readonly #agents: Gauge<'state'>;
  readonly #eventStreams: Gauge;
  /** The retention sweep's progress and what it removed. */
  readonly retention: RetentionMetrics;

  constructor() {
    const registers = [this.registry];
    this.#runs = new Counter({
      name: 'nightshift_runs_total',
      help: 'Runs that ended since the server started, by agent and terminal status (skipped ticks are counted in nightshift_skipped_ticks_total).',
      labelNames: ['agent_id', 'status'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'nightshift_run_duration_seconds',
      help: 'Wall-clock time from a run starting to it ending (all attempts and retry delays), by agent and terminal status.',
      labelNames: ['agent_id', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#lateness = new Histogram({
      name: 'nightshift_run_lateness_seconds',
      help: "How late a scheduled run started: its first attempt's start minus the tick's scheduled_at (manual runs excluded).",
      labelNames: ['agent_id'],
      buckets: LATENESS_BUCKETS,
      registers,
    });
    this.#tokens = new Counter({
      name: 'nightshift_tokens_total',
      help: 'Model tokens (input + output) used by runs that ended, by agent.',
      labelNames: ['agent_id'],
      registers,
    });
    this.#requests = new Counter({
      name: 'nightshift_model_requests_total',
      help: 'Model requests made by runs that ended, by agent.',
      labelNames: ['agent_id'],
      registers,
    });
    this.#cost = new Counter({
      name: 'nightshift_cost_usd_total',
      help: "What runs that ended cost in US dollars, by agent and the agent's provider and model (runs of free or unpriced models are not counted).",
      labelNames: ['agent_id', 'provider', 'model'],
      registers,
    });
    this.#skipped = new Counter({
      name: 'nightshift_skipped_ticks_total',
      help: 'Ticks skipped because a run was still going (overlap policy), by agent.',
      labelNames: ['agent_id'],
      registers,
    });
    this.#missed = new Counter({
      name: 'nightshift_missed_ticks_total',
      help: 'Ticks missed while the process was down or the agent paused, by agent.',
      labelNames: ['agent_id'],
      registers,
    });
    this.#guardrailHits = new Counter({
      name: 'nightshift_guardrail_hits_total',
      help: 'Checks of agent_config.guardrails that triggered, by agent, check, action (block, redact, flag) and where (query, tool_result, tool_args, answer).',
      labelNames: ['agent_id', 'check', 'action', 'where'],
      registers,
    });
    this.#inFlight = new Gauge({
      name: 'nightshift_runs_in_flight',
      help: 'Runs going now, by agent (from the status snapshot taken at scrape time).',
      labelNames: ['agent_id'],
      registers,
    });
    this.#agents = new Gauge({
      name: 'nightshift_agents',
      help: 'Agents by state (created, active, paused, stopped) at scrape time.',
      labelNames: ['state'],
      registers,
    });
    this.#eventStreams = new Gauge({
      name: 'nightshift_http_event_streams',
      help: 'Server-sent event streams open on this server now.',
      registers,
    });
    this.retention = new RetentionMetrics(this.registry);
  }

  /**
   * A run ended: its status, how long it took and what it used; what it cost, under `model`,
   * when its usage has a cost.
   */
  recordRunEnded(
    agentId: string,
    status: string,
    durationMs: number,
    usage: Usage | undefined,
    model: CostModel = { provider: 'unknown', model: 'unknown' },
  ): void {
    this.#runs.inc({ agent_id: agentId, status });
    this.#duration.observe({ agent_id: agentId, status }, Math.max(0, durationMs) / 1000);
    if (usage) {
      this.#tokens.inc({ agent_id: agentId }, usage.total_tokens);
      this.#requests.inc({ agent_id: agentId }, usage.requests);
    }
    if (usage?.cost_usd !== undefined) {
      this.#cost.inc({ agent_id: agentId, ...model }, Math.max(0, usage.cost_usd));
    }
  }

  /** A scheduled run's first attempt started this many milliseconds after its tick. */
  recordLateness(agentId: string, latenessMs: number): void {
    this.#lateness.observe({ agent_id: agentId }, Math.max(0, latenessMs) / 1000);
  }

  /** A tick was skipped. */
  recordSkipped(agentId: string): void {
    this.#skipped.inc({ agent_id: agentId });
  }

  /** Ticks were missed. */
  recordMissed(agentId: string, missed: number): void {
    this.#missed.inc({ agent_id: agentId }, missed);
  }

  /** A guardrail check triggered. */
  recordGuardrailHit(agentId: string, hit: { check: string; action: string; where: string }): void {
    this.#guardrailHits.inc({
      agent_id: agentId,
      check: hit.check,
      action: hit.action,
      where: hit.where,
    });
  }

  /** An event stream opened (+1) or closed (-1). */
  trackEventStream(change: 1 | -1): void {
    this.#eventStreams.inc(change);
  }

  /** Sets the gauges from a fresh status snapshot; agents that are gone drop out. */
  recordSnapshot(agents: readonly AgentStatus[]): void {
    this.#inFlight.reset();
    this.#agents.reset();
    for (const state of ['created', 'active', 'paused', 'stopped']) this.#agents.set({ state }, 0);
    for (const agent of agents) {
      this.#inFlight.set({ agent_id: agent.agent_id }, agent.running_runs);
      this.#agents.inc({ state: agent.state });
    }
  }

  /** The Prometheus text exposition and its content type. */
  async render(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
