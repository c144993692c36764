import { errorMessage } from '../../errors.js';
import { abortableSleep } from '../abortable-sleep.js';

/** The longest a `Retry-After` answer makes a retry wait, in milliseconds. */
const MAX_RETRY_AFTER_MS = 300_000;

/** How hard one message is tried. */
export interface DeliveryPolicy {
  /** Requests at most, the first included. */
  maxAttempts: number;
  /** Milliseconds before each retry; the last repeats when attempts outnumber them. */
  retryDelaysMs: readonly number[];
  /** Milliseconds one request may take. */
  timeoutMs: number;
}

/** One POST: where, what, and the headers of each attempt (a signature is made afresh for each). */
export interface DeliveryRequest {
  url: string;
  body: string;
  headers: () => Record<string, string>;
}

/** How a message's delivery ended. Errors never quote the URL (the caller redacts them too). */
export type DeliveryResult =
  | { ok: true; attempts: number; statusCode: number }
  | { ok: false; attempts: number; statusCode?: number; error: string };

/** The error of a delivery cut short by `signal` (the service shutting down). */
export const SHUT_DOWN_ERROR = 'not delivered: the service shut down';

/**
 * POSTs `request` until a 2xx answer, retrying after the policy's delays: a network error, a
 * timeout (`AbortSignal.timeout`), a 5xx or a 429 (after its `Retry-After`, up to five minutes,
 * when that is longer) is retried; any other answer (a 4xx) is final. `signal` aborting ends it
 * at once, the request in flight included.
 */
export async function deliver(
  request: DeliveryRequest,
  policy: DeliveryPolicy,
  signal: AbortSignal,
): Promise<DeliveryResult> {
  let last: { statusCode?: number; error: string } = { error: 'not attempted' };
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt += 1) {
    if (signal.aborted)
      return { ok: false, attempts: attempt - 1, ...last, error: SHUT_DOWN_ERROR };
    const answer = await post(request, policy.timeoutMs, signal);
    if (answer.statusCode !== undefined && answer.statusCode >= 200 && answer.statusCode < 300)
      return { ok: true, attempts: attempt, statusCode: answer.statusCode };
    last = {
      ...(answer.statusCode === undefined ? {} : { statusCode: answer.statusCode }),
      error: answer.error ?? `HTTP ${answer.statusCode}`,
    };
    if (signal.aborted) return { ok: false, attempts: attempt, ...last, error: SHUT_DOWN_ERROR };
    if (!retryable(answer.statusCode)) return { ok: false, attempts: attempt, ...last };
    if (attempt === policy.maxAttempts) break;
    const delay = Math.max(
      policy.retryDelaysMs[Math.min(attempt - 1, policy.retryDelaysMs.length - 1)] ?? 0,
      Math.min(answer.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS),
    );
    if (!(await abortableSleep(delay, signal)))
      return { ok: false, attempts: attempt, ...last, error: SHUT_DOWN_ERROR };
  }
  return {
    ok: false,
    attempts: policy.maxAttempts,
    ...last,
    error: `${last.error} (after ${policy.maxAttempts} attempts)`,
  };
}

/** A network error, a timeout (no status), a 429 or a 5xx is worth another try. */
function retryable(statusCode: number | undefined): boolean {
  return statusCode === undefined || statusCode === 429 || statusCode >= 500;
}

interface Answer {
  statusCode?: number;
  error?: string;
  retryAfterMs?: number;
}

async function post(
  request: DeliveryRequest,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Answer> {
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...request.headers() },
      body: request.body,
      redirect: 'error',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    // Only the status counts: the body is never read (nor stored), and the connection is freed.
    await response.body?.cancel().catch(() => undefined);
    const retryAfter = retryAfterMs(response.headers.get('retry-after'));
    return {
      statusCode: response.status,
      ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
    };
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError')
      return { error: `timed out after ${timeoutMs / 1000} s` };
    return { error: describeFetchError(error) };
  }
}

/** `fetch failed: ECONNREFUSED`: the cause's code says more than undici's message alone. */
function describeFetchError(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const message = errorMessage(error);
  return code === undefined ? message : `${message}: ${code}`;
}

/** `Retry-After` in seconds (the date form is not followed), as milliseconds. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}
