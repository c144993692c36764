/** One item of a server-sent event stream, as a client acts on it. */
export type ServerSentItem =
  /** A message: `data:` lines joined, and the `id:` it carried (if any). */
  | { kind: 'message'; id: string | undefined; data: string }
  /** `retry:`: how long the server asks clients to wait before reconnecting, in milliseconds. */
  | { kind: 'retry'; milliseconds: number }
  /** A `:` comment line (keep-alives, `connected`), without the colon. */
  | { kind: 'comment'; text: string };

/**
 * Parses a `text/event-stream` body as the HTML standard describes it: lines end with CRLF, LF
 * or CR; `field: value` loses one leading space; a blank line dispatches the message; a message
 * without data is not dispatched. Only `id`, `data` and `retry` matter to Nightshift's streams
 * (`event:` is read and ignored: every message is an event as JSON).
 */
export async function* parseServerSentEvents(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<ServerSentItem> {
  const decoder = new TextDecoder();
  let pending = '';
  let id: string | undefined;
  let data: string[] = [];
  let sawCarriageReturn = false;

  function* line(text: string): Generator<ServerSentItem> {
    if (text === '') {
      if (data.length > 0) yield { kind: 'message', id, data: data.join('\n') };
      id = undefined;
      data = [];
      return;
    }
    if (text.startsWith(':')) {
      yield { kind: 'comment', text: text.slice(1).trimStart() };
      return;
    }
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    const value = colon === -1 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) {
      yield { kind: 'retry', milliseconds: Number(value) };
    }
  }

  for await (const chunk of body) {
    let text = decoder.decode(chunk, { stream: true });
    // A CRLF split across two chunks: the LF ends no second line.
    if (sawCarriageReturn && text.startsWith('\n')) text = text.slice(1);
    sawCarriageReturn = text.endsWith('\r');
    pending += text;
    const lines = pending.split(/\r\n|\r|\n/);
    pending = lines.pop() ?? '';
    for (const text of lines) yield* line(text);
  }
  // A message the stream ended in the middle of is incomplete and is not dispatched.
}
