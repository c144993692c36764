import type { EventPayloads } from '../storage/contracts/index.js';

/** Event types the agent runtime emits for one run. */
export type AgentEventType =
  | 'user_message'
  | 'agent_message'
  | 'tool_call_started'
  | 'tool_call_result'
  | 'tool_call_error'
  | 'final_answer'
  | 'run_warning'
  | 'guardrail_triggered';

/** An event as the runtime emits it; the service adds the envelope (id, agent_id, run_id, timestamp). */
export type AgentEvent = {
  [K in AgentEventType]: { type: K; payload: EventPayloads[K] };
}[AgentEventType];

/** Receives the runtime's events in order; awaited, so an event is recorded before the run goes on. */
export type AgentEventSink = (event: AgentEvent) => void | Promise<void>;
