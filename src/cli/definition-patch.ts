import type { AgentDefinition } from '../config/agent-definition.js';

/** Nested configs `updateAgent` merges key by key (see the service's `mergeDefinition`). */
const MERGED_KEYS: ReadonlySet<string> = new Set(['model_config', 'task_config', 'agent_config']);

/**
 * The `updateAgent` patch that turns the stored definition into the file's one: only what
 * differs, so an unchanged agent is not updated at all (and its interval anchor, which an
 * update of the schedule resets, is kept across restarts). Keys the file no longer sets are
 * removed: `null` at the top level, `undefined` inside the merged nested configs.
 */
export function definitionPatch(
  stored: AgentDefinition,
  wanted: AgentDefinition,
): Record<string, unknown> {
  const current = stored as Record<string, unknown>;
  const next = wanted as Record<string, unknown>;
  const patch: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(current), ...Object.keys(next)])) {
    if (key === 'agent_id' || sameValue(current[key], next[key])) continue;
    const value = next[key];
    if (value === undefined) {
      patch[key] = null;
    } else if (MERGED_KEYS.has(key) && isPlainObject(value) && isPlainObject(current[key])) {
      const removed = Object.keys(current[key]).filter((inner) => !(inner in value));
      patch[key] = { ...value, ...Object.fromEntries(removed.map((inner) => [inner, undefined])) };
    } else {
      patch[key] = value;
    }
  }
  return patch;
}

/** Deep equality of JSON-like values; a key set to undefined counts as absent. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, item: unknown) =>
      isPlainObject(item)
        ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : item,
    ) ?? 'undefined'
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
