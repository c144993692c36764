import { createParser } from 'eventsource-parser';

/** One item of a server-sent event stream, as a client acts on it. */
export type ServerSentItem =
  /** A message: `data:` lines joined, and the `id:` it carried (if any). */
  | { kind: 'message'; id: string | undefined; data: string }
  /** `retry:`: how long the server asks clients to wait before reconnecting, in milliseconds. */
  | { kind: 'retry'; milliseconds: number }
  /** A `:` comment line (keep-alives, `connected`), without the colon. */
  | { kind: 'comment'; text: string };

/**
 * Parses a `text/event-stream` body with `eventsource-parser` (the HTML standard's rules: any
 * line ending, a blank line dispatches, a message without data is not dispatched, one the
 * stream ended in the middle of neither). Only `id`, `data` and `retry` matter to Nightshift's
 * streams (`event:` is ignored: every message is an event as JSON).
 */
export async function* parseServerSentEvents(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<ServerSentItem> {
  const decoder = new TextDecoder();
  let parsed: ServerSentItem[] = [];
  const parser = createParser({
    onEvent: (message) => parsed.push({ kind: 'message', id: message.id, data: message.data }),
    onRetry: (milliseconds) => parsed.push({ kind: 'retry', milliseconds }),
    onComment: (text) => parsed.push({ kind: 'comment', text: text.trimStart() }),
  });
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    const ready = parsed;
    parsed = [];
    yield* ready;
  }
}
