import type { EventType } from '../../../storage/contracts/event-log.js';
import type { ReportedAgentState, RunStatus } from '../../../storage/contracts/vocabulary.js';
import type { DashboardVocabulary } from '../dashboard-vocabulary-shape.js';

/** The words the server sent with the page (`dashboard-vocabulary.ts`): states, statuses, events. */
export const vocabulary = JSON.parse(
  document.getElementById('dashboard-vocabulary')?.textContent ?? '{}',
) as DashboardVocabulary;

/** The label of a run status (`timed out`). */
export function statusLabel(status: RunStatus): string {
  return vocabulary.runStatuses[status].label;
}

/** True for statuses that count as a failure. */
export function isFailedStatus(status: RunStatus): boolean {
  return vocabulary.runStatuses[status].failed;
}

/** True once a run has ended. */
export function isTerminalStatus(status: RunStatus): boolean {
  return vocabulary.runStatuses[status].terminal;
}

/** Every reported agent state, in the order the fleet lists them. */
export const AGENT_STATES = Object.keys(vocabulary.agentStates) as ReportedAgentState[];

/** True for events that report something that went wrong. */
export function isBadEventType(type: EventType): boolean {
  return vocabulary.eventTypes[type].bad;
}
