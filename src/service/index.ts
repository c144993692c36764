export type { AgentStatus } from './agent-status.js';
export {
  BackgroundAgentService,
  type BackgroundAgentServiceOptions,
  type RunNowOptions,
  type ServiceLogger,
  type ToolSettings,
} from './background-agent-service.js';
export { LocalScheduler } from './local-scheduler.js';
export type {
  ManualRunRequest,
  SchedulerTarget,
  TickScheduler,
  TickSchedulerFactory,
  WorkerInfo,
} from './tick-scheduler.js';
export type { StreamEventsOptions } from './event-stream.js';
export { manualRunId, scheduledRunId } from './run-ids.js';
