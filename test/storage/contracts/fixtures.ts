import {
  agentDefinitionSchema,
  type AgentDefinition,
} from '../../../src/config/agent-definition.js';
import {
  emptyStats,
  emptyUsage,
  type AgentRecord,
  type EventLog,
  type NewEvent,
  type RunPatch,
  type RunRecord,
  type RunStep,
  type StatsDelta,
  type Store,
} from '../../../src/storage/index.js';

/** A store under test and how to throw it away. */
export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
  /**
   * Another store on the same data with connections and caches of its own, as another process
   * would open it (closed by `cleanup`); absent where data is not shared (memory).
   */
  sibling?(): Store;
}

/** What a store suite asks of a backend's store. */
export interface StoreFactoryOptions {
  /** The clock that stamps records, passed to the backend's factory as its `now` option. */
  now?: () => Date;
}

/** Makes a fresh, empty store for one test (may connect to a server, create a schema …). */
export type StoreFactory = (options?: StoreFactoryOptions) => Promise<StoreFixture>;

/** An event log under test and how to throw it away. */
export interface EventLogFixture {
  log: EventLog;
  cleanup(): Promise<void>;
}

/** What an event log suite asks of a backend's log. */
export interface EventLogFactoryOptions {
  maxEvents?: number;
  onError?: (error: unknown) => void;
}

/** Makes a fresh, empty event log for one test. */
export type EventLogFactory = (options?: EventLogFactoryOptions) => Promise<EventLogFixture>;

/** A valid definition of an offline (scripted) agent. */
export function agentDefinition(agentId: string, query = 'Check the disk.'): AgentDefinition {
  return agentDefinitionSchema.parse({
    agent_id: agentId,
    model_config: { provider: 'scripted', script: [{ answer: 'ok' }] },
    interval: 60,
    task_config: { query },
  });
}

/** A new agent record, created a while ago so updates visibly move `updated_at`. */
export function agentRecord(agentId: string, overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    agent_id: agentId,
    definition: agentDefinition(agentId),
    state: 'created',
    pause_reason: null,
    anchor_at: null,
    created_at: '2024-01-01T00:00:00.000Z',
    updated_at: '2024-01-01T00:00:00.000Z',
    version: 1,
    stats: emptyStats(),
    ...overrides,
  };
}

/** A pending run of `agentId` for the tick at `scheduledAt`. */
export function runRecord(
  agentId: string,
  scheduledAt: string,
  overrides: Partial<RunRecord> = {},
): RunRecord {
  return {
    run_id: `${agentId}@${scheduledAt}`,
    agent_id: agentId,
    trigger: 'schedule',
    scheduled_at: scheduledAt,
    created_at: scheduledAt,
    started_at: null,
    ended_at: null,
    status: 'pending',
    query: 'Check the disk.',
    attempts: [],
    output: null,
    output_json: null,
    error: null,
    usage: emptyUsage(),
    skip_reason: null,
    lease_owner: null,
    lease_expires_at: null,
    ...overrides,
  };
}

/** An `agent_message` event of `agentId` saying `message`. */
export function agentMessage(agentId: string, message: string): NewEvent {
  return {
    type: 'agent_message',
    agent_id: agentId,
    run_id: null,
    timestamp: '2024-01-01T00:00:00.000Z',
    payload: { message },
  };
}

/** The ISO time `minutes` after a fixed origin, for ordering runs. */
export function minute(minutes: number): string {
  return new Date(Date.UTC(2024, 0, 1, 0, minutes)).toISOString();
}

/** Options for `expect.poll` waits: short interval, a timeout well under the test's. */
export const WAIT = { timeout: 3_000, interval: 5 } as const;

/** A tool-call step of a run (attempt 1), with its fields overridable. */
export function step(runId: string, index: number, overrides: Partial<RunStep> = {}): RunStep {
  return {
    run_id: runId,
    step_id: `1.${index}`,
    attempt: 1,
    index,
    kind: 'tool_call',
    state: 'started',
    started_at: minute(index),
    ended_at: null,
    tool_name: 'disk_usage',
    tool_call_id: `call-${index}`,
    args_digest: 'a'.repeat(64),
    ...overrides,
  };
}

/** A run's end as the service writes it: completed, its lease given up. */
export const ENDED_RUN: RunPatch = {
  status: 'completed',
  output: 'done',
  ended_at: minute(5),
  lease_owner: null,
  lease_expires_at: null,
};

/** What a completed run of the tick at `scheduledAt` adds to its agent's counters. */
export function completedRunStats(scheduledAt = minute(1)): StatsDelta {
  return {
    run: {
      status: 'completed',
      ended_at: minute(5),
      duration_ms: 1_000,
      total_tokens: 7,
      error: null,
    },
    scheduled_at: scheduledAt,
  };
}
