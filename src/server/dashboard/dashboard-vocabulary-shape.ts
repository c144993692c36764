import type { EventType } from '../../storage/contracts/event-log.js';
import type { ReportedAgentState, RunStatus } from '../../storage/contracts/vocabulary.js';

/**
 * What the server tells every dashboard page about the words it shows (sent in the page as
 * JSON, built by `dashboard-vocabulary.ts`), so the browser scripts restate no label of their own.
 */
export interface DashboardVocabulary {
  /** Every run status: its label, and whether it counts as a failure or as the run's end. */
  runStatuses: Record<RunStatus, { label: string; failed: boolean; terminal: boolean }>;
  /** Every reported agent state with its label, in the order the fleet page lists them. */
  agentStates: Record<ReportedAgentState, { label: string }>;
  /** Every event type: whether it reports something that went wrong. */
  eventTypes: Record<EventType, { bad: boolean }>;
}
