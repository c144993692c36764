import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { NightshiftError } from '../../errors.js';
import { assertPublicAddress, type AddressPolicy } from './assert-public-address.js';
import { hostRefusal } from './host-refusal.js';
import { pinnedLookup } from './pinned-lookup.js';
import { readCappedBody } from './read-capped-body.js';
import type { ResolvedAddress } from './resolve-host.js';

/** The most redirects a request follows unless told otherwise. */
export const DEFAULT_MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Credentials meant for one origin must not ride a redirect to another. */
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const DEFAULT_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': 'Nightshift (background agent)',
  'accept-encoding': 'gzip, deflate, br',
};

/** What {@link safeFetch} sends, how long it waits and how much it reads. */
export interface SafeFetchOptions extends AddressPolicy {
  method?: 'GET' | 'POST' | 'HEAD';
  headers?: Readonly<Record<string, string>>;
  body?: string | Uint8Array | undefined;
  /** The whole exchange, redirects included, must finish within this. */
  timeoutMs: number;
  /** Body bytes to read at most; 0 reads none (for checks that need only the status). */
  maxBytes: number;
  /** `follow` (default) checks and follows up to `maxRedirects`; `manual` returns the 3xx response. */
  redirect?: 'follow' | 'manual';
  maxRedirects?: number;
  /** Aborts the request (the tool call's signal). */
  signal?: AbortSignal;
}

/** A response read by {@link safeFetch}. */
export interface SafeFetchResponse {
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
  unreadBytes?: number | undefined;
  /** Every URL redirected to, in order. */
  redirects: string[];
  /** From sending the last request to its response headers. */
  latencyMs: number;
}

/**
 * `fetch` for URLs a model chose: refuses private, loopback, link-local and metadata
 * destinations (unless allowed), connects only to the addresses it checked, checks every
 * redirect hop again, stops reading at `maxBytes` and gives up after `timeoutMs`. Errors name
 * the host, never the path or query (webhook URLs carry their secret there).
 */
export async function safeFetch(
  url: string | URL,
  options: SafeFetchOptions,
): Promise<SafeFetchResponse> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let current = httpUrl(url);
  let method = options.method ?? 'GET';
  let body = options.body;
  const headers: Record<string, string> = { ...DEFAULT_HEADERS };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  const redirects: string[] = [];
  try {
    for (;;) {
      signal.throwIfAborted();
      const addresses = await assertPublicAddress(current.hostname, options);
      signal.throwIfAborted();
      const started = performance.now();
      const response = await openResponse(current, { method, headers, body, addresses, signal });
      const latencyMs = performance.now() - started;
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (options.redirect !== 'manual' && REDIRECT_STATUSES.has(status) && location) {
        response.on('error', () => undefined);
        response.destroy();
        if (redirects.length >= maxRedirects) {
          throw new NightshiftError(
            'tool_error',
            `too many redirects: gave up after ${maxRedirects} (last from ${current.host})`,
          );
        }
        const next = httpUrl(new URL(location, current));
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          delete headers['content-type'];
        }
        if (next.origin !== current.origin) {
          for (const name of ORIGIN_BOUND_HEADERS) delete headers[name];
        }
        redirects.push(next.href);
        current = next;
        continue;
      }
      const read = await readCappedBody(response, method === 'HEAD' ? 0 : options.maxBytes);
      return {
        url: current.href,
        status,
        headers: flattenHeaders(response),
        ...read,
        redirects,
        latencyMs,
      };
    }
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timeout.aborted) {
      throw new NightshiftError(
        'timeout',
        `request to ${current.host} timed out after ${options.timeoutMs / 1000}s`,
      );
    }
    if (NightshiftError.isInstance(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new NightshiftError('tool_error', `request to ${current.host} failed: ${message}`, {
      cause: error,
    });
  }
}

/** Parses a URL a model gave, accepting only http and https. */
export function httpUrl(value: string | URL): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new NightshiftError('tool_error', `not a valid URL: ${String(value).slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw hostRefusal(url.host, `only http and https URLs can be fetched, not ${url.protocol}`);
  }
  return url;
}

interface OutgoingRequest {
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  addresses: readonly ResolvedAddress[];
  signal: AbortSignal;
}

function openResponse(url: URL, request: OutgoingRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const outgoing = transport.request(
      url,
      {
        method: request.method,
        headers: request.headers,
        lookup: pinnedLookup(request.addresses),
        // A pooled socket could have been opened for another caller's allow-list; open our own.
        agent: false,
        signal: request.signal,
      },
      resolve,
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

function flattenHeaders(response: IncomingMessage): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
