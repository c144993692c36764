import type { z } from 'zod';
import type { FieldError } from '../errors.js';

/** Renders a path as users write it: `agents[2].task_config.query`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** Turns zod issues into field errors, each prefixed by `prefix` (a path of its own). */
export function issuesToFieldErrors(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): FieldError[] {
  const fields: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        fields.push({
          path: formatPath([...prefix, ...issue.path, key]),
          message: 'unknown field',
        });
      }
      continue;
    }
    fields.push({
      path: formatPath([...prefix, ...issue.path]) || '(root)',
      message: issue.message,
    });
  }
  return fields;
}

/** A per-parse zod error map: a missing value reads `required`, not a type complaint. */
export const requiredErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
  if (issue.code === 'invalid_type')
    return `must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`;
  return undefined;
};

/** One line naming every bad field: `task_config.query: required; interval: must be greater than 0`. */
export function describeFields(fields: readonly FieldError[]): string {
  return fields.map((field) => `${field.path}: ${field.message}`).join('; ');
}
