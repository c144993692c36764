import type { AgentDefinition } from '../config/agent-definition.js';

const NESTED = ['model_config', 'task_config', 'agent_config'] as const;
const SCHEDULE_KINDS = ['interval', 'cron', 'run_at'] as const;

/**
 * Applies an update patch to a definition without touching either: nested configs merge key by
 * key, lists are replaced, `null` removes a key (top-level or nested), and a patch that sets one
 * of interval / cron / run_at replaces the others.
 */
export function mergeDefinition(
  current: AgentDefinition,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = {
    ...structuredClone(current),
    ...structuredClone(patch),
  };
  for (const key of NESTED) {
    const value = patch[key];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const nested: Record<string, unknown> = {
        ...structuredClone(current[key]),
        ...structuredClone(value),
      };
      // null removes a key (back to its default), at this level as at the top.
      for (const [name, item] of Object.entries(value)) if (item === null) delete nested[name];
      merged[key] = nested;
    }
  }
  const setKind = SCHEDULE_KINDS.find((kind) => patch[kind] !== undefined && patch[kind] !== null);
  if (setKind) {
    for (const kind of SCHEDULE_KINDS) if (kind !== setKind) delete merged[kind];
    if (setKind !== 'cron' && patch.timezone === undefined) delete merged.timezone;
  }
  for (const [key, value] of Object.entries(patch)) if (value === null) delete merged[key];
  return merged;
}

/** True when the patch changes when the agent fires. */
export function changesSchedule(patch: Record<string, unknown>): boolean {
  return ['interval', 'cron', 'run_at', 'timezone', 'start_at', 'end_at'].some(
    (key) => key in patch,
  );
}
