import type { Context } from 'hono';
import type { z } from 'zod';
import { issuesToFieldErrors, requiredErrorMap, describeFields } from '../config/format-issues.js';
import { NightshiftError } from '../errors.js';
import { invalidField } from './api-error.js';

/** The path that names the request body as a whole in field errors. */
export const BODY_FIELD = '(body)';

/** The body parsed as JSON; `undefined` when it is empty. Malformed JSON is a 400 naming the body. */
export async function readJsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidField(BODY_FIELD, `must be valid JSON (${(error as Error).message})`);
  }
}

/** The body as a JSON object (a definition or a patch); anything else is a 400 naming the body. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const body = await readJsonBody(c);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidField(BODY_FIELD, 'must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** The body checked against `schema` (an empty body is `{}`); every bad field is named by path. */
export async function readJsonInput<SCHEMA extends z.ZodType>(
  c: Context,
  schema: SCHEMA,
): Promise<z.output<SCHEMA>> {
  const body = (await readJsonBody(c)) ?? {};
  const result = schema.safeParse(body, { error: requiredErrorMap });
  if (result.success) return result.data;
  const fields = issuesToFieldErrors(result.error.issues).map((field) =>
    field.path === '(root)' ? { ...field, path: BODY_FIELD } : field,
  );
  throw new NightshiftError('config_invalid', describeFields(fields), { fields });
}
