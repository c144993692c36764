import type { AgentStatus } from '../../../service/agent-status.js';
import type { WorkerInfo } from '../../../service/worker-info.js';

/** An agent as `GET /api/agents` reports it. */
export type AgentView = AgentStatus;

/** A worker process as `GET /api/workers` reports it. */
export type WorkerView = WorkerInfo;
