import { formatPath } from './format-issues.js';
import { interpolateEnv } from './interpolate-env.js';

/** One `${NAME}` (or `${NAME:-default}`) reference: the string it sits in, and the variable it reads. */
export interface EnvReference {
  /** Path of the string, as users write it (`mcp_tools[0].args[1]`); `(root)` for a bare string. */
  path: string;
  name: string;
}

/**
 * Every environment variable the string values of `value` would read if interpolated, in
 * document order; `$${` literals and malformed references read none. Keys and non-string values
 * are left alone, as interpolation leaves them. Walks without recursion, so a deeply nested
 * value cannot exhaust the stack.
 */
export function envReferenceNames(value: unknown): EnvReference[] {
  const references: EnvReference[] = [];
  const pending: { node: unknown; path: PropertyKey[] }[] = [{ node: value, path: [] }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { node, path } = item;
    if (typeof node === 'string') {
      const at = formatPath(path) || '(root)';
      for (const name of namesReadBy(node)) references.push({ path: at, name });
    } else if (Array.isArray(node)) {
      // Pushed last to first, so they are taken first to last.
      for (let index = node.length - 1; index >= 0; index--) {
        pending.push({ node: node[index], path: [...path, index] });
      }
    } else if (node !== null && typeof node === 'object') {
      const entries = Object.entries(node);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, child] = entries[index] as [string, unknown];
        pending.push({ node: child, path: [...path, key] });
      }
    }
  }
  return references;
}

/**
 * The variables interpolating `text` reads. Asks interpolation itself, through an environment
 * that records each name it is asked for, so this never drifts from the one implementation of
 * the syntax.
 */
function namesReadBy(text: string): string[] {
  if (!text.includes('${')) return [];
  const names: string[] = [];
  const recorder = new Proxy<Record<string, string | undefined>>(
    {},
    {
      get: (_target, key) => {
        if (typeof key === 'string') names.push(key);
        return undefined;
      },
    },
  );
  interpolateEnv(text, { env: recorder });
  return names;
}
