import type { ToolDefinition } from '../tool-definition.js';
import { systemStatsTool } from './system-stats.js';

/** Tools every service has; agents still list the ones they use. */
export const BUILT_IN_TOOLS: Readonly<Record<string, ToolDefinition<never>>> = {
  system_stats: systemStatsTool as ToolDefinition<never>,
};
