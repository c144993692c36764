/**
 * A small JSON Schema (2020-12) checker for the keywords the OpenAPI document uses, so a test can
 * hold a live answer against the very document the server serves — no validator dependency.
 */

/** A JSON Schema as it appears in the document. */
export type Schema = Record<string, unknown>;

type Json = unknown;

function typeOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: Json, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** The problems of `value` against `schema` (empty when it conforms), each named by its path. */
export function schemaProblems(
  value: Json,
  schema: Schema,
  document: { components: { schemas: Record<string, Schema> } },
  path = '$',
): string[] {
  const check = (inner: Json, innerSchema: Schema, innerPath: string) =>
    schemaProblems(inner, innerSchema, document, innerPath);
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = document.components.schemas[name];
    if (!target) return [`${path}: unresolved $ref ${schema.$ref}`];
    return check(value, target, path);
  }
  const problems: string[] = [];
  const fail = (message: string) => problems.push(`${path}: ${message}`);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((type) => matchesType(value, type)))
      return [`${path}: ${typeOf(value)} is not ${types.join(' or ')}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    fail(`${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if ('const' in schema && schema.const !== value)
    fail(`${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    const options = (schema.anyOf ?? schema.oneOf) as Schema[];
    const results = options.map((option) => check(value, option, path));
    const passing = results.filter((result) => result.length === 0).length;
    if (passing === 0) fail(`matches no option: ${results.map((r) => r.join('; ')).join(' | ')}`);
    if (schema.oneOf && passing > 1) fail(`matches ${passing} options of oneOf`);
  }
  for (const part of (schema.allOf as Schema[] | undefined) ?? [])
    problems.push(...check(value, part, path));
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) fail('too short');
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) fail('too long');
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value))
      fail(`does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) fail('not a date-time');
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail('below minimum');
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail('above maximum');
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum)
      fail('not above exclusiveMinimum');
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      fail('too few items');
    if (schema.items && typeof schema.items === 'object')
      value.forEach((item, index) =>
        problems.push(...check(item, schema.items as Schema, `${path}[${index}]`)),
      );
  }
  if (typeOf(value) === 'object') {
    const record = value as Record<string, Json>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required as string[] | undefined) ?? [])
      if (!(key in record)) fail(`missing required property ${key}`);
    for (const [key, item] of Object.entries(record)) {
      const itemPath = `${path}.${key}`;
      if (properties[key]) problems.push(...check(item, properties[key], itemPath));
      else if (schema.additionalProperties === false) fail(`unexpected property ${key}`);
      else if (typeof schema.additionalProperties === 'object')
        problems.push(...check(item, schema.additionalProperties as Schema, itemPath));
      if (schema.propertyNames)
        problems.push(...check(key, schema.propertyNames as Schema, `${itemPath} (name)`));
    }
  }
  return problems;
}
