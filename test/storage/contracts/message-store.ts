import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageStore, StoredMessage } from '../../../src/storage/index.js';
import type { StoreFactory, StoreFixture } from './fixtures.js';

const user = (text: string): StoredMessage => ({ role: 'user', content: text });

/** A message that neither JSON nor structuredClone can store, to make an append fail. */
function unstorable(): StoredMessage {
  return {
    role: 'user',
    content: {
      toJSON() {
        throw new Error('cannot be stored');
      },
    },
  };
}

/** The MessageStore contract, run against one backend. */
export function describeMessageStore(name: string, factory: StoreFactory): void {
  describe(`MessageStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let messages: MessageStore;

    beforeEach(async () => {
      fixture = await factory();
      messages = fixture.store.messages;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('keeps messages in append order across appends', async () => {
      await messages.append('session', [user('one'), user('two')]);
      await messages.append('session', [user('three')]);
      expect(await messages.list('session')).toEqual([user('one'), user('two'), user('three')]);
      expect(await messages.list('empty')).toEqual([]);
    });

    it('stores structured content (tool calls and results) as it was given', async () => {
      const conversation: StoredMessage[] = [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool-call', toolCallId: 'call-1', toolName: 'disk', input: { path: '/' } },
          ],
        },
        {
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: 'call-1',
              toolName: 'disk',
              output: { type: 'json', value: { used: 0.42, mounts: ['/', '/home'] } },
            },
          ],
          providerOptions: { openai: { store: false } },
        },
      ];
      await messages.append('session', conversation);
      expect(await messages.list('session')).toEqual(conversation);
    });

    it('keeps sessions apart, and clears one without touching another', async () => {
      await messages.append('first', [user('a')]);
      await messages.append('second', [user('b')]);
      await messages.append('first', [user('c')]);
      expect(await messages.list('first')).toEqual([user('a'), user('c')]);
      expect(await messages.list('second')).toEqual([user('b')]);
      await messages.clear('first');
      expect(await messages.list('first')).toEqual([]);
      expect(await messages.list('second')).toEqual([user('b')]);
      await messages.append('first', [user('d')]);
      expect(await messages.list('first')).toEqual([user('d')]);
    });

    it('appends all the messages or none', async () => {
      await messages.append('session', [user('kept')]);
      await expect(messages.append('session', [user('lost'), unstorable()])).rejects.toThrow();
      expect(await messages.list('session')).toEqual([user('kept')]);
    });

    it('keeps its state apart from the objects callers hold', async () => {
      const message = { role: 'user' as const, content: [{ type: 'text', text: 'hello' }] };
      await messages.append('session', [message]);
      message.content[0]!.text = 'changed';
      const read = await messages.list('session');
      (read[0]!.content as { text: string }[])[0]!.text = 'changed too';
      expect(await messages.list('session')).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'hello' }] },
      ]);
    });
  });
}
