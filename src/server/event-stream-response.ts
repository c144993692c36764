import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { errorMessage } from '../errors.js';
import type { NightshiftEvent } from '../storage/contracts/index.js';
import type { ServerContext, ServerEnvironment } from './server-context.js';

/** How long a browser waits before reconnecting a dropped stream, in milliseconds. */
const RECONNECT_DELAY_MS = 2000;

/**
 * Serves the service's event stream as server-sent events: each event's `id:` is its log id
 * (so a browser resumes with `Last-Event-ID`) and its `data:` the event as JSON. Comments keep
 * idle connections open through proxies. The service's iterator ends as soon as the client
 * disconnects or the server closes.
 */
export function eventStreamResponse(
  c: Context<ServerEnvironment>,
  context: ServerContext,
  agentId: string | undefined,
  since: string | undefined,
): Response {
  return streamSSE(c, async (stream) => {
    const stop = new AbortController();
    const end = () => stop.abort();
    const serverSignal = context.options.signal;
    stream.onAbort(end);
    c.req.raw.signal.addEventListener('abort', end, { once: true });
    serverSignal?.addEventListener('abort', end, { once: true });
    if (serverSignal?.aborted) end();
    const keepAlive = setInterval(() => {
      void stream.write(': keep-alive\n\n');
    }, context.options.keepAliveMs);
    context.metrics.trackEventStream(1);
    try {
      const events: AsyncIterable<NightshiftEvent> = context.service.streamAgentEvents(agentId, {
        since,
        signal: stop.signal,
      });
      // Sent at once, after subscribing: a client that has read it misses no later event.
      await stream.write(`retry: ${RECONNECT_DELAY_MS}\n: connected\n\n`);
      for await (const event of events) {
        if (stream.aborted) break;
        await stream.writeSSE({ id: event.id, data: JSON.stringify(event) });
      }
    } catch (error) {
      // The stream just ends; the client reconnects with Last-Event-ID and loses nothing.
      context.options.logger.warn(
        { err: errorMessage(error) },
        'nightshift server: an event stream failed',
      );
    } finally {
      clearInterval(keepAlive);
      c.req.raw.signal.removeEventListener('abort', end);
      serverSignal?.removeEventListener('abort', end);
      stop.abort();
      context.metrics.trackEventStream(-1);
    }
  });
}
