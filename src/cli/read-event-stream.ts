import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, NightshiftError } from '../errors.js';
import { backoffDelayMs } from '../shared/backoff.js';
import { compareEventIds, type NightshiftEvent } from '../storage/index.js';
import type { ApiClient } from './api-client.js';
import { parseServerSentEvents } from './server-sent-events.js';

/** Options of {@link readEventStream}. */
export interface ReadEventStreamOptions {
  /** One agent's events; undefined for the whole fleet's. */
  agentId?: string | undefined;
  /** Start after this event id; `0` (the default) replays the stored history first. */
  since?: string;
  /** Keep reading live events (reconnecting as needed) until `signal` aborts. */
  follow: boolean;
  /** Ends the stream. */
  signal: AbortSignal;
  /** Told each time a followed stream is lost and about to be resumed. */
  onReconnect?: (reason: string) => void;
  /** Without `follow`: the history has been read once the stream is quiet this long after an event. Default 500 ms. */
  historyQuietMs?: number;
  /** Without `follow`: how long the first event may take (the server reads the history first). Default 2 s. */
  historyStartMs?: number;
  /** With `follow`: a connection silent this long is presumed dead and replaced. Default 45 s. */
  idleTimeoutMs?: number;
}

/** The first reconnection waits this long; each failure doubles it up to the server's `retry:`. */
const FIRST_RECONNECT_DELAY_MS = 250;
/** The server's `retry:` until it says otherwise. */
const DEFAULT_RETRY_MS = 2000;

/**
 * Reads an agent's (or the fleet's) events over the API's server-sent events, in order, each
 * once. Following, it survives dropped connections and server restarts: it reconnects with
 * `Last-Event-ID` set to the last event it yielded, so nothing is lost, and it drops anything at
 * or before that id, so nothing is repeated. A refusal (401, 404 …) ends it with its error.
 *
 * Without `follow` it yields the stored history and ends. The API has no "end of history"
 * marker, so the history is taken to be over when the stream has been quiet for
 * `historyQuietMs` after an event (the server sends the history in one burst, once it has read
 * it: the first event may take up to `historyStartMs`), or at the first event stamped after the
 * server's `Date` (plus its one-second resolution): that one happened after the request, so it
 * is live.
 */
export async function* readEventStream(
  client: ApiClient,
  options: ReadEventStreamOptions,
): AsyncGenerator<NightshiftEvent> {
  const quietMs = options.historyQuietMs ?? 500;
  const startMs = options.historyStartMs ?? 2000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  let cursor = options.since ?? '0';
  let reconnecting = false;
  let retryMs = DEFAULT_RETRY_MS;
  // Failed reconnections since the last stream that opened (`: connected`).
  let failures = 0;

  while (!options.signal.aborted) {
    const connection = new AbortController();
    const stop = () => connection.abort();
    options.signal.addEventListener('abort', stop, { once: true });
    // Why this connection ended on purpose: the history is read, or it went silent.
    let ended: 'history' | 'idle' | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = (why: 'history' | 'idle', milliseconds: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        ended = why;
        connection.abort();
      }, milliseconds);
    };
    try {
      const response = await client.openEventStream(options.agentId, {
        signal: connection.signal,
        ...(reconnecting ? { lastEventId: cursor } : { since: cursor }),
      });
      const serverNow = Date.parse(response.headers.get('date') ?? '');
      const liveAfter = (Number.isNaN(serverNow) ? Date.now() : serverNow) + 1000;
      if (!response.body) throw new NightshiftError('internal', 'the event stream has no body');
      let events = 0;
      const rearm = () =>
        options.follow
          ? arm('idle', idleTimeoutMs)
          : arm('history', events > 0 ? quietMs : startMs);
      rearm();
      for await (const item of parseServerSentEvents(response.body)) {
        rearm();
        if (item.kind === 'retry') retryMs = item.milliseconds;
        if (item.kind === 'comment' && item.text === 'connected') failures = 0;
        if (item.kind !== 'message') continue;
        const event = JSON.parse(item.data) as NightshiftEvent;
        if (compareEventIds(event.id, cursor) <= 0) continue;
        if (!options.follow && Date.parse(event.timestamp) > liveAfter) return;
        cursor = event.id;
        events += 1;
        rearm();
        yield event;
      }
      if (!options.follow) {
        throw new NightshiftError(
          'storage_unavailable',
          `the server at ${client.url} closed the event stream before the history was read`,
        );
      }
      options.onReconnect?.('the server closed the stream');
    } catch (error) {
      if (options.signal.aborted || ended === 'history') return;
      if (!options.follow || !canResume(error, ended)) throw error;
      options.onReconnect?.(
        ended === 'idle'
          ? `no data for ${Math.round(idleTimeoutMs / 1000)} s`
          : errorMessage(error),
      );
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', stop);
      connection.abort();
    }
    reconnecting = true;
    failures += 1;
    const delayMs = backoffDelayMs(failures, {
      firstMs: FIRST_RECONNECT_DELAY_MS,
      maxMs: Math.max(retryMs, FIRST_RECONNECT_DELAY_MS),
    });
    await sleep(delayMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/** A dropped, silent or unreachable server is worth another try; a refusal (4xx) is not. */
function canResume(error: unknown, ended: 'history' | 'idle' | undefined): boolean {
  if (ended === 'idle') return true;
  if (!NightshiftError.isInstance(error)) return true;
  const status = error.details.status;
  return typeof status !== 'number' || status >= 500;
}
