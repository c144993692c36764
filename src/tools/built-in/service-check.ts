import { z } from 'zod';
import { safeConnect, safeFetch } from '../safety/index.js';
import type { ToolDefinition, ToolExecutionContext } from '../tool-definition.js';

const timeoutSeconds = z
  .number()
  .positive()
  .max(60)
  .default(5)
  .describe('Count the target as down after this many seconds (default 5).');

const httpTarget = z.object({
  url: z.string().min(1).describe('An http(s) URL to GET; up when it answers 2xx or 3xx.'),
  expect_status: z
    .array(z.number().int().min(100).max(599))
    .optional()
    .describe('Status codes that count as up instead of 200-399, e.g. [401].'),
  timeout_seconds: timeoutSeconds,
});

const tcpTarget = z.object({
  host: z.string().min(1).describe('Host name or IP address to open a TCP connection to.'),
  port: z.number().int().min(1).max(65_535).describe('TCP port; up when a connection opens.'),
  timeout_seconds: timeoutSeconds,
});

const inputSchema = z.object({
  targets: z
    .array(z.union([httpTarget, tcpTarget]))
    .min(1)
    .max(50)
    .describe('What to check: { url } for an HTTP(S) GET, or { host, port } for a TCP connect.'),
});

/** Input of {@link serviceCheckTool}. */
export type ServiceCheckInput = z.infer<typeof inputSchema>;

/** One target's outcome. */
export interface ServiceCheckResult {
  target: string;
  up: boolean;
  status_code?: number;
  latency_ms: number;
  error?: string;
}

const milliseconds = (value: number) => Math.round(value * 10) / 10;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function checkHttp(
  target: z.infer<typeof httpTarget>,
  context: ToolExecutionContext,
): Promise<ServiceCheckResult> {
  const started = performance.now();
  try {
    const response = await safeFetch(target.url, {
      timeoutMs: target.timeout_seconds * 1000,
      // The status is the answer; a health check need not download the page.
      maxBytes: 0,
      redirect: 'manual',
      signal: context.abortSignal,
      allowHosts: context.allow_hosts,
    });
    const up = target.expect_status
      ? target.expect_status.includes(response.status)
      : response.status >= 200 && response.status < 400;
    return {
      target: target.url,
      up,
      status_code: response.status,
      latency_ms: milliseconds(response.latencyMs),
      ...(up ? {} : { error: `unexpected HTTP status ${response.status}` }),
    };
  } catch (error) {
    if (context.abortSignal.aborted) throw error;
    return {
      target: target.url,
      up: false,
      latency_ms: milliseconds(performance.now() - started),
      error: messageOf(error),
    };
  }
}

async function checkTcp(
  target: z.infer<typeof tcpTarget>,
  context: ToolExecutionContext,
): Promise<ServiceCheckResult> {
  // An IPv6 address is bracketed, as in a URL, so the port stays readable.
  const bracketed = target.host.includes(':') && !target.host.startsWith('[');
  const name = `${bracketed ? `[${target.host}]` : target.host}:${target.port}`;
  const started = performance.now();
  try {
    const result = await safeConnect(target.host, target.port, {
      timeoutMs: target.timeout_seconds * 1000,
      signal: context.abortSignal,
      allowHosts: context.allow_hosts,
    });
    return { target: name, up: true, latency_ms: milliseconds(result.latencyMs) };
  } catch (error) {
    if (context.abortSignal.aborted) throw error;
    return {
      target: name,
      up: false,
      latency_ms: milliseconds(performance.now() - started),
      error: messageOf(error),
    };
  }
}

/** Checks HTTP(S) URLs and TCP ports, all at once: up or down, status code and latency. */
export const serviceCheckTool: ToolDefinition<ServiceCheckInput, ServiceCheckResult[]> = {
  description:
    'Check whether services are up: { url } sends an HTTP(S) GET (up on 2xx/3xx, redirects not ' +
    'followed), { host, port } opens a TCP connection (up when it connects). Returns one ' +
    '{ target, up, status_code?, latency_ms, error? } per target, in order. Private and ' +
    'loopback addresses are refused unless allowed. Read-only.',
  inputSchema,
  idempotent: true,
  async execute(input, context) {
    return Promise.all(
      input.targets.map((target) =>
        'url' in target ? checkHttp(target, context) : checkTcp(target, context),
      ),
    );
  },
};
