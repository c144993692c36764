import type { AgentStore } from './agent-store.js';
import type { ApprovalStore } from './approval-store.js';
import type { BudgetStore } from './budget-store.js';
import type { LeaseStore } from './lease-store.js';
import type { MessageStore } from './message-store.js';
import type { RunPhases } from './run-phases.js';
import type { RunStore } from './run-store.js';

export * from './agent-store.js';
export * from './approval-store.js';
export * from './budget-store.js';
export * from './event-log.js';
export * from './lease-store.js';
export * from './message-store.js';
export * from './run-phases.js';
export * from './run-store.js';
export * from './usage.js';
export * from './vocabulary.js';

/** The service's memory: one contract per domain, built by a backend factory that owns its connections. */
export interface Store {
  agents: AgentStore;
  runs: RunStore;
  messages: MessageStore;
  leases: LeaseStore;
  /** Spend counters with limits, shared by every process on the store. */
  budgets: BudgetStore;
  /** Tool calls waiting for a person, and their decisions, shared by every process on the store. */
  approvals: ApprovalStore;
  /** A run's claim with its lease, and its end with the agent's stats and the lease: one call each. */
  phases: RunPhases;
  /** A description safe to print (passwords masked). */
  readonly description: string;
  close(): Promise<void>;
}
