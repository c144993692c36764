import type { ToolDefinition } from '../tool-definition.js';
import { feedReadTool } from './feed-read.js';
import { httpFetchTool } from './http-fetch.js';
import { serviceCheckTool } from './service-check.js';
import { systemStatsTool } from './system-stats.js';

/** Tools every service has; agents still list the ones they use. */
export const BUILT_IN_TOOLS: Readonly<Record<string, ToolDefinition<never>>> = {
  system_stats: systemStatsTool as ToolDefinition<never>,
  service_check: serviceCheckTool as ToolDefinition<never>,
  http_fetch: httpFetchTool as ToolDefinition<never>,
  feed_read: feedReadTool as ToolDefinition<never>,
};

export { feedReadTool, type FeedReadInput } from './feed-read.js';
export {
  createFileWriteTool,
  type FileWriteInput,
  type FileWriteOptions,
  type FileWriteResult,
} from './file-write.js';
export { httpFetchTool, type HttpFetchInput } from './http-fetch.js';
export { createNotifyTool, type NotifyOptions, type NotifyResult } from './notify.js';
export {
  serviceCheckTool,
  type ServiceCheckInput,
  type ServiceCheckResult,
} from './service-check.js';
export { createSqlTools, type SqlTools, type SqlToolsOptions } from './sql/create-sql-tools.js';
export {
  createSystemStatsTool,
  systemStatsTool,
  type SystemStatsInput,
  type SystemStatsOptions,
} from './system-stats.js';
