/**
 * The OpenAPI 3.1 description of every route the server answers. The operations are a table
 * (`openapi/operations.ts`); every schema is generated with `z.toJSONSchema` from the zod schemas
 * the code itself uses or is type-checked against (`openapi/`), and every enum comes from the
 * one vocabulary (`storage/contracts/vocabulary.ts`, `errors.ts`), so the document cannot drift.
 */

import { componentSchemas } from './openapi/components.js';
import { errorResponse, ref, type OperationRow } from './openapi/operation-parts.js';
import { OPERATIONS } from './openapi/operations.js';

/** The operation object of one row; keys a row leaves out are absent from the served JSON. */
function operationObject(row: OperationRow): Record<string, unknown> {
  return {
    summary: row.summary,
    description: row.description,
    tags: [row.tag],
    security: row.public ? [] : undefined,
    parameters: row.parameters,
    requestBody: row.body && {
      required: row.body.required,
      content: { 'application/json': { schema: ref(row.body.schema) } },
    },
    responses: row.responses,
  };
}

function pathsOf(rows: readonly OperationRow[]): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const row of rows)
    paths[row.path] = { ...paths[row.path], [row.method]: operationObject(row) };
  return paths;
}

/** The OpenAPI 3.1 document served at `/openapi.json`, built once on first use. */
export function openApiDocument(): OpenApiDocument {
  built ??= buildDocument();
  return built;
}

type OpenApiDocument = ReturnType<typeof buildDocument>;
let built: OpenApiDocument | undefined;

function buildDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Nightshift',
      version: '0.1.0',
      description:
        "Manage and watch background LLM agents. Every `/api` and `/metrics` call needs `Authorization: Bearer <token>` when the server has a token. Requests must name the server in `Host`, and browsers may call only from the server's own origin.",
    },
    security: [{ bearer: [] }],
    tags: [
      { name: 'agents' },
      { name: 'runs' },
      { name: 'events' },
      { name: 'budgets' },
      { name: 'approvals' },
      { name: 'operations' },
      { name: 'dashboard' },
    ],
    paths: pathsOf(OPERATIONS),
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            "The server's token (`NIGHTSHIFT_TOKEN`). Required when set; never sent in URLs.",
        },
      },
      responses: {
        Unauthorized: errorResponse('`unauthorized`: the bearer token is missing or wrong.'),
        Forbidden: errorResponse(
          '`host_not_allowed`: the Host header does not name this server; `origin_not_allowed`: the request came from another origin.',
        ),
      },
      schemas: componentSchemas(),
    },
  } as const;
}
