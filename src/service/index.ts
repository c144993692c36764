export type { AgentStatus } from './agent-status.js';
export {
  BackgroundAgentService,
  type BackgroundAgentServiceOptions,
  type RunNowOptions,
  type ServiceLogger,
} from './background-agent-service.js';
export type { StreamEventsOptions } from './event-stream.js';
export { manualRunId, scheduledRunId } from './run-ids.js';
