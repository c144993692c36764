import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  ERROR_CODES,
  NightshiftError,
  type FieldError,
  type NightshiftErrorCode,
} from '../errors.js';

/** Codes the server adds to the service's own for refusals that happen before the service. */
const SERVER_ERROR_CODES = [
  'unauthorized',
  'host_not_allowed',
  'origin_not_allowed',
  'payload_too_large',
  'unsupported_media_type',
  'token_required',
  'not_found',
] as const;

/** A refusal of the server itself (see {@link SERVER_ERROR_CODES}). */
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/** Every code an error response of the API may carry: the service's, then the server's. */
export const API_ERROR_CODES = [...ERROR_CODES, ...SERVER_ERROR_CODES] as const;

/** A code of an error response. */
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** The JSON body of every error response. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; fields?: FieldError[] };
}

const statusByCode: Partial<Record<NightshiftErrorCode, ContentfulStatusCode>> = {
  config_invalid: 400,
  agent_not_found: 404,
  run_not_found: 404,
  approval_not_found: 404,
  agent_exists: 409,
  invalid_state: 409,
  shutting_down: 503,
  storage_unavailable: 503,
};

/** An error body from a code and a message. */
export function errorBody(
  code: ApiErrorCode,
  message: string,
  fields?: FieldError[],
): ApiErrorBody {
  return { error: fields && fields.length > 0 ? { code, message, fields } : { code, message } };
}

/**
 * The status and body for anything a handler threw. Only errors the service raised on purpose
 * say what went wrong; anything else is a 500 that reveals nothing of the internals.
 */
export function errorResponse(error: unknown): {
  status: ContentfulStatusCode;
  body: ApiErrorBody;
} {
  if (NightshiftError.isInstance(error)) {
    const status = statusByCode[error.code];
    if (status !== undefined)
      return { status, body: errorBody(error.code, error.message, error.fields) };
  }
  return { status: 500, body: errorBody('internal', 'internal server error') };
}

/** A `config_invalid` error naming one field (a query parameter, a header or the body). */
export function invalidField(path: string, message: string): NightshiftError {
  return new NightshiftError('config_invalid', `${path}: ${message}`, {
    fields: [{ path, message }],
  });
}
