import { z } from 'zod';
import { NightshiftError } from '../../errors.js';
import { safeFetch } from '../safety/index.js';
import type { ToolDefinition } from '../tool-definition.js';
import { parseContentType, responseContent } from './response-content.js';

/** Headers the tool sets itself: letting the model set them would break framing or decoding. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'expect',
  'accept-encoding',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const inputSchema = z.object({
  url: z.string().min(1).describe('The http:// or https:// URL to fetch.'),
  method: z
    .enum(['GET', 'POST'])
    .default('GET')
    .describe('GET to read (default). POST sends `json` as the body and may change things.'),
  headers: z
    .record(z.string(), z.string().max(8192))
    .optional()
    .describe('Extra request headers, e.g. {"authorization": "Bearer …"}.'),
  json: z
    .unknown()
    .optional()
    .describe('POST only: the request body, sent as JSON (application/json).'),
  timeout_seconds: z
    .number()
    .positive()
    .max(120)
    .default(20)
    .describe('Give up after this many seconds, redirects included (default 20).'),
  max_bytes: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(1_000_000)
    .describe('Read at most this many bytes of the response body (default 1,000,000).'),
  max_chars: z
    .number()
    .int()
    .min(100)
    .max(200_000)
    .default(20_000)
    .describe('Return at most this many characters of text (default 20,000).'),
});

/** Input of {@link httpFetchTool}. */
export type HttpFetchInput = z.infer<typeof inputSchema>;

/** Fetches a public URL with GET or POST; HTML becomes readable text and JSON stays JSON. */
export const httpFetchTool: ToolDefinition<HttpFetchInput> = {
  description:
    'Fetch a public http(s) URL with GET, or POST a JSON body. Returns the status, the final URL ' +
    'after redirects (at most 5, each checked), and the body: JSON as parsed JSON, HTML reduced ' +
    'to readable text, other text as text; long bodies are cut with a "[truncated: …]" marker. ' +
    'Private, loopback and cloud-metadata addresses are refused. GET only reads; POST may change ' +
    'things on the server, so this tool is not idempotent — do not repeat a POST blindly.',
  inputSchema,
  idempotent: false,
  async execute(input, context) {
    if (input.json !== undefined && input.method !== 'POST') {
      throw new NightshiftError('tool_error', '`json` is a request body: use it with method POST');
    }
    const headers: Record<string, string> = {
      accept: 'text/html, application/json;q=0.9, text/*;q=0.8, */*;q=0.5',
    };
    for (const [name, value] of Object.entries(input.headers ?? {})) {
      if (!HEADER_NAME.test(name)) {
        throw new NightshiftError('tool_error', `"${name}" is not a valid header name`);
      }
      if (RESERVED_HEADERS.has(name.toLowerCase())) {
        throw new NightshiftError('tool_error', `header "${name}" is set by the tool itself`);
      }
      headers[name.toLowerCase()] = value;
    }
    let body: string | undefined;
    if (input.method === 'POST') {
      body = JSON.stringify(input.json ?? null);
      headers['content-type'] ??= 'application/json';
    }
    const response = await safeFetch(input.url, {
      method: input.method,
      headers,
      body,
      timeoutMs: input.timeout_seconds * 1000,
      maxBytes: input.max_bytes,
      signal: context.abortSignal,
      allowHosts: context.allow_hosts,
    });
    const content = responseContent(response, input.max_bytes, input.max_chars);
    return {
      url: response.url,
      status: response.status,
      ok: response.status >= 200 && response.status < 300,
      content_type: parseContentType(response.headers['content-type']).mime || null,
      ...(response.redirects.length > 0 ? { redirects: response.redirects } : {}),
      bytes_read: response.body.length,
      ...content,
    };
  },
};
