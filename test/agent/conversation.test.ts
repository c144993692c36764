import type { ModelMessage } from 'ai';
import { describe, expect, it } from 'vitest';
import { sanitizeConversation, selectHistory } from '../../src/agent/index.js';

const user = (text: string): ModelMessage => ({ role: 'user', content: text });
const answer = (text: string): ModelMessage => ({ role: 'assistant', content: text });
const call = (id: string): ModelMessage => ({
  role: 'assistant',
  content: [{ type: 'tool-call', toolCallId: id, toolName: 'echo', input: {} }],
});
const result = (id: string): ModelMessage => ({
  role: 'tool',
  content: [
    {
      type: 'tool-result',
      toolCallId: id,
      toolName: 'echo',
      output: { type: 'json', value: 'x'.repeat(400) },
    },
  ],
});

describe('selectHistory', () => {
  const conversation = [
    user('one'),
    answer('1'),
    user('two'),
    call('a'),
    result('a'),
    answer('2'),
    user('three'),
    answer('3'),
  ];

  it('sliding_window keeps the last N messages', () => {
    expect(selectHistory(conversation, { mode: 'sliding_window', value: 2 })).toEqual([
      user('three'),
      answer('3'),
    ]);
  });

  it('never splits a tool call from its result', () => {
    // The last 4 messages would start with the tool result; the window drops it with its call instead.
    const window = selectHistory(conversation, { mode: 'sliding_window', value: 4 });
    expect(window).toEqual([answer('2'), user('three'), answer('3')]);
    const wider = selectHistory(conversation, { mode: 'sliding_window', value: 5 });
    expect(wider).toEqual([call('a'), result('a'), answer('2'), user('three'), answer('3')]);
  });

  it('token_budget keeps the newest messages within the budget', () => {
    const window = selectHistory(conversation, { mode: 'token_budget', value: 20 });
    expect(window).toEqual([answer('2'), user('three'), answer('3')]);
    const all = selectHistory(conversation, { mode: 'token_budget', value: 100_000 });
    expect(all).toEqual(conversation);
  });
});

describe('sanitizeConversation', () => {
  it('drops a tool call without its result and a result without its call', () => {
    const messages = [user('go'), call('orphan'), result('stray'), answer('done')];
    expect(sanitizeConversation(messages)).toEqual([user('go'), answer('done')]);
  });
});
