import type { z } from 'zod';

/** True when `A` and `B` are the same type: each assignable to the other, with the same keys. */
type Same<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [keyof A] extends [keyof B]
      ? [keyof B] extends [keyof A]
        ? true
        : false
      : false
    : false
  : false;

/** What `tsc` reports when a response schema no longer says what the code sends. */
interface SchemaDrift<Type, Output> {
  schema_and_type_differ: { type: Type; schema_output: Output };
}

/**
 * The schema, once its output is exactly the type `Type` the code sends: a schema that drifts
 * from its type fails `tsc` where it is declared, so the OpenAPI document cannot describe a shape
 * the server does not answer with.
 */
export function describing<Type>() {
  return <Schema extends z.ZodType>(
    schema: Schema &
      (Same<z.output<Schema>, Type> extends true ? unknown : SchemaDrift<Type, z.output<Schema>>),
  ): Schema => schema;
}
