import { describe, expect, it } from 'vitest';
import { parseServerSentEvents, type ServerSentItem } from '../../src/cli/server-sent-events.js';

/** The items of a stream that arrives in these chunks. */
async function parse(chunks: readonly string[]): Promise<ServerSentItem[]> {
  const encoder = new TextEncoder();
  async function* body() {
    for (const chunk of chunks) yield encoder.encode(chunk);
  }
  const items: ServerSentItem[] = [];
  for await (const item of parseServerSentEvents(body())) items.push(item);
  return items;
}

describe('server-sent events', () => {
  it('reads messages, ids, retry and comments, whatever the line endings and chunks', async () => {
    const text =
      'retry: 2000\n: connected\n\nid: 41\ndata: {"a":1}\n\nid:42\r\ndata: x\r\ndata:  y\r\n\r\n';
    const expected: ServerSentItem[] = [
      { kind: 'retry', milliseconds: 2000 },
      { kind: 'comment', text: 'connected' },
      { kind: 'message', id: '41', data: '{"a":1}' },
      { kind: 'message', id: '42', data: 'x\n y' },
    ];
    expect(await parse([text])).toEqual(expected);
    // One character at a time: a CRLF split across chunks ends one line, not two.
    expect(await parse([...text])).toEqual(expected);
  });

  it('dispatches no message without data, nor one the stream ended in the middle of', async () => {
    expect(await parse(['id: 7\n\n', 'event: x\n\n', 'data: cut'])).toEqual([]);
    expect(await parse(['data: a\r', '\ndata: b\n', '\n'])).toEqual([
      { kind: 'message', id: undefined, data: 'a\nb' },
    ]);
  });
});
