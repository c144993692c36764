import { z } from 'zod';
import type { FieldError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';

/** Renders a path as users write it: `agents[2].task_config.query`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/**
 * Turns zod issues into field errors, each prefixed by `prefix` (a path of its own). Given the
 * `schema` parsed, an unknown field names the known one it is closest to (`intervall` →
 * `did you mean "interval"?`).
 */
export function issuesToFieldErrors(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
  schema?: z.ZodType,
): FieldError[] {
  const fields: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = schema === undefined ? [] : fieldNamesAt(schema, issue.path);
      for (const key of issue.keys) {
        fields.push({
          path: formatPath([...prefix, ...issue.path, key]),
          message: `unknown field${didYouMean(key, known)}`,
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

/** The schema under wrappers that do not change a value's shape (optional, default, preprocess…). */
function unwrapped(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodReadonly
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      // `z.preprocess` puts the schema after its transform; `.transform()` before it.
      const { in: before, out: after } = current as z.ZodPipe<z.ZodType, z.ZodType>;
      current = before instanceof z.ZodTransform ? after : before;
    } else {
      return current;
    }
  }
}

/** The field names of the object `schema` expects at `path`; empty when it is not one. */
function fieldNamesAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = unwrapped(schema);
  for (const segment of path) {
    if (current instanceof z.ZodObject && typeof segment === 'string') {
      current = (current.shape as Record<string, z.ZodType>)[segment];
    } else if (current instanceof z.ZodArray && typeof segment === 'number') {
      current = current.element as z.ZodType;
    } else if (current instanceof z.ZodRecord) {
      current = current.valueType as z.ZodType;
    } else {
      return [];
    }
    if (current === undefined) return [];
    current = unwrapped(current);
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

/** A per-parse zod error map: a missing value reads `required`, not a type complaint. */
export const requiredErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
  if (issue.code === 'invalid_type')
    return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
  return undefined;
};

/** One line naming every bad field: `task_config.query: required; interval: must be greater than 0`. */
export function describeFields(fields: readonly FieldError[]): string {
  return fields.map((field) => `${field.path}: ${field.message}`).join('; ');
}
