import { z } from 'zod';

/** A JSON Schema object: keywords and their values (`task_config.output_schema`). */
export type JsonSchemaObject = { [keyword: string]: unknown };

/** The most answer repairs a run may ask for (`task_config.output_repairs`). */
export const MAX_OUTPUT_REPAIRS = 5;

/** How a zod schema that JSON Schema cannot express reaches validation (see `withJsonOutputSchema`). */
const UNCONVERTIBLE = 'is a zod schema JSON Schema cannot express';

const TYPE_NAMES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
/** Keywords whose value is one schema. */
const SCHEMA_KEYWORDS = [
  'additionalProperties',
  'additionalItems',
  'unevaluatedProperties',
  'unevaluatedItems',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
] as const;
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP_KEYWORDS = [
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
] as const;
/** Keywords whose value is a non-empty list of schemas. */
const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const;
const COUNT_KEYWORDS = [
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minContains',
  'maxContains',
] as const;
const NUMBER_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const;
const STRING_KEYWORDS = [
  '$schema',
  '$id',
  '$ref',
  '$anchor',
  'title',
  'description',
  'format',
] as const;

/** One problem of a JSON Schema: where (keyword path) and what. */
export interface SchemaProblem {
  path: PropertyKey[];
  message: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (error) {
    return `is not a valid regular expression (${(error as Error).message})`;
  }
}

/**
 * What makes `schema` not a JSON Schema (draft 2020-12, with draft 7's `definitions` and tuple
 * `items`): the keywords it knows must hold values of their kind; others are kept as they are
 * (annotations). A sub-schema may be `true` or `false`.
 */
export function jsonSchemaProblems(schema: unknown, path: PropertyKey[] = []): SchemaProblem[] {
  if (typeof schema === 'boolean') return [];
  if (!isObject(schema))
    return [{ path, message: 'must be a JSON Schema (an object or a boolean)' }];
  const problems: SchemaProblem[] = [];
  const problem = (keyword: PropertyKey[], message: string) =>
    problems.push({ path: [...path, ...keyword], message });
  const sub = (value: unknown, at: PropertyKey[]) =>
    problems.push(...jsonSchemaProblems(value, [...path, ...at]));

  const type = schema.type;
  if (type !== undefined) {
    const names = Array.isArray(type) ? type : [type];
    if (names.length === 0) problem(['type'], 'must name at least one type');
    for (const name of names) {
      if (typeof name !== 'string' || !TYPE_NAMES.has(name)) {
        problem(['type'], `must be one of ${[...TYPE_NAMES].join(', ')} (or a list of them)`);
        break;
      }
    }
  }
  for (const keyword of SCHEMA_KEYWORDS) {
    if (schema[keyword] !== undefined) sub(schema[keyword], [keyword]);
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const value = schema[keyword];
    if (value === undefined) continue;
    if (!isObject(value)) problem([keyword], 'must be an object of schemas');
    else for (const [name, item] of Object.entries(value)) sub(item, [keyword, name]);
  }
  if (isObject(schema.patternProperties)) {
    for (const name of Object.keys(schema.patternProperties)) {
      const bad = regexProblem(name);
      if (bad) problem(['patternProperties', name], bad);
    }
  }
  for (const keyword of SCHEMA_LIST_KEYWORDS) {
    const value = schema[keyword];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.length === 0)
      problem([keyword], 'must be a non-empty list of schemas');
    else value.forEach((item, index) => sub(item, [keyword, index]));
  }
  const items = schema.items;
  if (Array.isArray(items)) items.forEach((item, index) => sub(item, ['items', index]));
  else if (items !== undefined) sub(items, ['items']);
  const required = schema.required;
  if (
    required !== undefined &&
    (!Array.isArray(required) || required.some((name) => typeof name !== 'string'))
  ) {
    problem(['required'], 'must be a list of property names');
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum))
    problem(['enum'], 'must be a list of values');
  for (const keyword of COUNT_KEYWORDS) {
    const value = schema[keyword];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0))
      problem([keyword], 'must be a whole number at least 0');
  }
  for (const keyword of NUMBER_KEYWORDS) {
    const value = schema[keyword];
    if (value !== undefined && typeof value !== 'number') problem([keyword], 'must be a number');
  }
  const multipleOf = schema.multipleOf;
  if (multipleOf !== undefined && !(typeof multipleOf === 'number' && multipleOf > 0))
    problem(['multipleOf'], 'must be a number greater than 0');
  if (schema.uniqueItems !== undefined && typeof schema.uniqueItems !== 'boolean')
    problem(['uniqueItems'], 'must be true or false');
  for (const keyword of STRING_KEYWORDS) {
    const value = schema[keyword];
    if (value !== undefined && typeof value !== 'string') problem([keyword], 'must be a string');
  }
  if (typeof schema.pattern === 'string') {
    const bad = regexProblem(schema.pattern);
    if (bad) problem(['pattern'], bad);
  } else if (schema.pattern !== undefined) problem(['pattern'], 'must be a regular expression');
  return problems;
}

/**
 * `task_config.output_schema`: a JSON Schema object the run's final answer must satisfy. Code
 * may give a zod schema instead; {@link withJsonOutputSchema} turns it into JSON Schema before
 * validation, so the stored definition always keeps JSON Schema.
 */
export const outputSchemaSchema = z
  .record(z.string(), z.unknown(), {
    // A zod schema that could not be converted says why (see `withJsonOutputSchema`).
    error: (issue) =>
      typeof issue.input === 'string' && issue.input.startsWith(UNCONVERTIBLE)
        ? issue.input
        : 'must be a JSON Schema object',
  })
  .superRefine((schema, context) => {
    const problems = jsonSchemaProblems(schema);
    for (const problem of problems) {
      context.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    }
    if (problems.length > 0) return;
    // Answers are validated by the schema zod compiles from it: one it cannot compile is refused.
    try {
      z.fromJSONSchema(schema);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        message: `cannot be used to validate answers: ${(error as Error).message}`,
      });
    }
  })
  .describe('A JSON Schema object the final answer must be JSON valid against.');

/** `task_config.output_repairs`: repair turns for an answer that fails the schema. */
export const outputRepairsSchema = z
  .number()
  .int({ error: 'must be a whole number' })
  .min(0, { error: 'must be at least 0' })
  .max(MAX_OUTPUT_REPAIRS, { error: `must be at most ${MAX_OUTPUT_REPAIRS}` });

/** True for a zod schema (given in code, where a file or HTTP body holds JSON Schema). */
function isZodSchema(value: unknown): value is z.ZodType {
  return value instanceof z.ZodType || (isObject(value) && '_zod' in value);
}

/**
 * The definition with a zod `task_config.output_schema` turned into JSON Schema (zod 4's
 * `z.toJSONSchema`); any other input unchanged. A zod schema JSON Schema cannot express
 * (a transform, a date) is left as it is, and validation names the field.
 */
export function withJsonOutputSchema(input: unknown): unknown {
  if (!isObject(input) || !isObject(input.task_config)) return input;
  const schema = input.task_config.output_schema;
  if (!isZodSchema(schema)) return input;
  let converted: unknown;
  try {
    converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' });
  } catch (error) {
    converted = `${UNCONVERTIBLE}: ${(error as Error).message}`;
  }
  return { ...input, task_config: { ...input.task_config, output_schema: converted } };
}
