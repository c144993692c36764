import type { AgentDefinition } from '../config/agent-definition.js';

/** Nested configs `updateAgent` merges key by key (see the service's `mergeDefinition`). */
const MERGED_KEYS: ReadonlySet<string> = new Set(['model_config', 'task_config', 'agent_config']);

/**
 * The `updateAgent` patch that turns the stored definition into the file's one: only what
 * differs, so an unchanged agent is not updated at all (and its interval anchor, which an
 * update of the schedule resets, is kept across restarts). Keys the file no longer sets are
 * removed with `null`, at the top level and inside the merged nested configs alike: unlike
 * `undefined`, `null` survives the JSON of an HTTP request.
 */
export function definitionPatch(
  stored: AgentDefinition,
  wanted: AgentDefinition,
): Record<string, unknown> {
  const current = stored as Record<string, unknown>;
  const next = wanted as Record<string, unknown>;
  const patch: Record<string, unknown> = {};
  for (const key of differingKeys(current, next)) {
    const value = next[key];
    if (value === undefined) {
      patch[key] = null;
    } else if (MERGED_KEYS.has(key) && isPlainObject(value) && isPlainObject(current[key])) {
      const removed = Object.keys(current[key]).filter((inner) => value[inner] === undefined);
      patch[key] = { ...value, ...Object.fromEntries(removed.map((inner) => [inner, null])) };
    } else {
      patch[key] = value;
    }
  }
  return patch;
}

/**
 * What differs between two definitions, as paths: a top-level key (`interval`, `tools`), or a
 * key inside a merged nested config (`task_config.query`). Empty when they are the same.
 */
export function changedPaths(stored: AgentDefinition, wanted: AgentDefinition): string[] {
  const current = stored as Record<string, unknown>;
  const next = wanted as Record<string, unknown>;
  return differingKeys(current, next).flatMap((key) => {
    const before = current[key];
    const after = next[key];
    if (!MERGED_KEYS.has(key) || !isPlainObject(before) || !isPlainObject(after)) return [key];
    return differingKeys(before, after).map((inner) => `${key}.${inner}`);
  });
}

/** Deep equality of JSON-like values; a key set to undefined counts as absent. */
function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Keys of either object whose values differ, the wanted object's order first; never `agent_id`. */
function differingKeys(current: Record<string, unknown>, next: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(next), ...Object.keys(current)])].filter(
    (key) => key !== 'agent_id' && !sameValue(current[key], next[key]),
  );
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
