import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NightshiftError } from '../../../src/errors.js';
import type { MessageStore, StoredMessage } from '../../../src/storage/index.js';
import type { StoreFactory, StoreFixture } from './fixtures.js';
import { describeMessageRetention } from './message-retention.js';

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

    describeMessageRetention(() => messages);

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

    it('lists only the newest `limit` messages, oldest first', async () => {
      await messages.append('session', [user('one'), user('two')]);
      await messages.append('session', [user('three'), user('four'), user('five')]);
      expect(await messages.list('session', { limit: 3 })).toEqual([
        user('three'),
        user('four'),
        user('five'),
      ]);
      expect(await messages.list('session', { limit: 1 })).toEqual([user('five')]);
      expect(await messages.list('session', {})).toHaveLength(5);
    });

    it('lists the whole session when `limit` is larger, and none when it is 0', async () => {
      await messages.append('session', [user('one'), user('two')]);
      expect(await messages.list('session', { limit: 2 })).toEqual([user('one'), user('two')]);
      expect(await messages.list('session', { limit: 1_000 })).toEqual([user('one'), user('two')]);
      expect(await messages.list('session', { limit: 0 })).toEqual([]);
      expect(await messages.list('empty', { limit: 5 })).toEqual([]);
      expect(await messages.list('empty', { limit: 0 })).toEqual([]);
    });

    it('limits each session to its own messages', async () => {
      await messages.append('first', [user('a1'), user('a2')]);
      await messages.append('second', [user('b1'), user('b2'), user('b3')]);
      await messages.append('first', [user('a3')]);
      expect(await messages.list('first', { limit: 2 })).toEqual([user('a2'), user('a3')]);
      expect(await messages.list('second', { limit: 2 })).toEqual([user('b2'), user('b3')]);
      expect(await messages.list('first', { limit: 10 })).toEqual([
        user('a1'),
        user('a2'),
        user('a3'),
      ]);
    });

    it('sees messages appended after a limited read', async () => {
      await messages.append('session', [user('one'), user('two'), user('three')]);
      const read = await messages.list('session', { limit: 2 });
      (read[0] as { content: string }).content = 'changed';
      await messages.append('session', [user('four')]);
      expect(await messages.list('session', { limit: 2 })).toEqual([user('three'), user('four')]);
      expect(await messages.list('session')).toEqual([
        user('one'),
        user('two'),
        user('three'),
        user('four'),
      ]);
    });

    it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
      'refuses a `limit` of %s as config_invalid, naming the field',
      async (limit) => {
        await messages.append('session', [user('one')]);
        const error: unknown = await messages.list('session', { limit }).catch((e: unknown) => e);
        expect(NightshiftError.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ code: 'config_invalid', fields: [{ path: 'limit' }] });
      },
    );
  });
}
