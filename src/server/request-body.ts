import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { issuesToFieldErrors, requiredErrorMap, describeFields } from '../config/format-issues.js';
import { NightshiftError } from '../errors.js';
import { errorBody, invalidField } from './api-error.js';
import type { ServerEnvironment } from './server-context.js';

/** The path that names the request body as a whole in field errors. */
const BODY_FIELD = '(body)';

/** The deepest nesting of arrays and objects a body may have; definitions need a handful. */
export const MAX_BODY_DEPTH = 64;

/** `application/json`, or a JSON-based type such as `application/merge-patch+json`. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/;

/**
 * Refuses (415) a request that carries a body not declared as JSON. Without it a body sent as
 * `text/plain`, which browsers send cross-origin without a preflight, would be read as JSON.
 * A request without a body (an action button) needs no `Content-Type`.
 */
export function jsonContentType(): MiddlewareHandler<ServerEnvironment> {
  return async (c, next) => {
    const length = c.req.header('content-length');
    const carriesBody =
      c.req.header('transfer-encoding') !== undefined ||
      (length !== undefined && length.trim() !== '0');
    if (!carriesBody) return next();
    const header = c.req.header('content-type') ?? '';
    const mediaType = (header.split(';')[0] ?? '').trim().toLowerCase();
    if (JSON_MEDIA_TYPE.test(mediaType)) return next();
    const got = mediaType === '' ? 'none' : mediaType;
    return c.json(
      errorBody(
        'unsupported_media_type',
        `the request body must be JSON: send Content-Type: application/json (got ${got})`,
      ),
      415,
    );
  };
}

/** The body parsed as JSON; `undefined` when it is empty. Malformed JSON is a 400 naming the body. */
async function readJsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  // Checked on the text, before parsing: everything after JSON.parse (validation, cloning,
  // storage) recurses, and thousands of levels would overflow the stack there.
  if (nestingExceeds(text, MAX_BODY_DEPTH)) {
    throw invalidField(BODY_FIELD, `nesting deeper than ${MAX_BODY_DEPTH} levels`);
  }
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

/** True when the JSON text nests arrays and objects deeper than `limit`; brackets in strings do not count. */
function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      // A backslash escapes the next character, a quote too.
      if (code === 0x5c) index++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > limit) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return false;
}
