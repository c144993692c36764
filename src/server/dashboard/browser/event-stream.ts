import { backoffDelayMs } from '../../../shared/backoff.js';
import type { NightshiftEvent } from '../../../storage/contracts/event-log.js';
import { byId } from './dom.js';
import { askForToken, authorizedHeaders } from './token.js';

/** Reconnects wait 1 s, then twice as long each time, at most 15 s. */
const RECONNECT = { firstMs: 1000, maxMs: 15_000 };

/** A followed stream; close() stops it for good. */
export interface EventStream {
  close(): void;
}

/** Reads one server-sent event block: its id, and its data parsed as an event (or null). */
function parseBlock(block: string): { id: string | null; event: NightshiftEvent | null } {
  let id: string | null = null;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return { id, event: null };
  try {
    return { id, event: JSON.parse(data.join('\n')) as NightshiftEvent };
  } catch {
    return { id, event: null };
  }
}

/**
 * Follows a server-sent event stream through fetch, so the token goes in a header and never in
 * a URL. Reconnects with Last-Event-ID after a drop, so no event is lost or shown twice.
 */
export function followStream(path: string, onEvent: (event: NightshiftEvent) => void): EventStream {
  const controller = new AbortController();
  const live = byId('live');
  let lastId: string | null = null;
  let closed = false;
  let failures = 0;
  const setLive = (on: boolean, text: string) => {
    live.className = on ? 'on' : '';
    live.textContent = text;
  };
  /** Reads one connection to its end; false when the token was refused (no point retrying). */
  const readOnce = async (): Promise<boolean> => {
    const response = await fetch(path, {
      headers: authorizedHeaders(
        lastId === null
          ? { Accept: 'text/event-stream' }
          : { Accept: 'text/event-stream', 'Last-Event-ID': lastId },
      ),
      signal: controller.signal,
    });
    if (response.status === 401) {
      setLive(false, 'not signed in');
      askForToken('The token was refused; enter it again.');
      return false;
    }
    if (!response.ok || !response.body) throw new Error('HTTP ' + response.status);
    setLive(true, 'live');
    failures = 0;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      buffer = (buffer + value).replace(/\r\n?/g, '\n');
      let boundary;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const { id, event } = parseBlock(buffer.slice(0, boundary));
        buffer = buffer.slice(boundary + 2);
        if (id !== null) lastId = id;
        if (event !== null) onEvent(event);
      }
    }
  };
  void (async () => {
    while (!closed) {
      try {
        if (!(await readOnce())) return;
      } catch {
        if (closed) return;
      }
      setLive(false, 'reconnecting…');
      failures += 1;
      await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(failures, RECONNECT)));
    }
  })();
  return {
    close: () => {
      closed = true;
      controller.abort();
    },
  };
}
