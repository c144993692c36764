import { expect, it } from 'vitest';
import type { MessageStore, StoredMessage } from '../../../src/storage/index.js';

const user = (text: string): StoredMessage => ({ role: 'user', content: text });
const numbered = (count: number): StoredMessage[] =>
  Array.from({ length: count }, (_, index) => user(`m${index}`));

/** The retention cases of the MessageStore contract (`trim`), inside its describe. */
export function describeMessageRetention(messagesUnderTest: () => MessageStore): void {
  it('trims a session to its newest messages, in batches, leaving other sessions alone', async () => {
    const messages = messagesUnderTest();
    await messages.append('alpha', numbered(7));
    await messages.append('bravo', numbered(7));

    expect(await messages.trim('alpha', { keep: 2, limit: 1, dry_run: true })).toBe(5);
    expect(await messages.list('alpha')).toHaveLength(7);

    expect(await messages.trim('alpha', { keep: 2, limit: 3 })).toBe(3);
    expect(await messages.trim('alpha', { keep: 2, limit: 3 })).toBe(2);
    expect(await messages.trim('alpha', { keep: 2 })).toBe(0);
    expect(await messages.list('alpha')).toEqual([user('m5'), user('m6')]);
    expect(await messages.list('bravo')).toEqual(numbered(7));
    expect(await messages.trim('missing', { keep: 2 })).toBe(0);
  });

  it('never trims more than the excess when trims run at once', async () => {
    const messages = messagesUnderTest();
    await messages.append('alpha', numbered(10));
    const removed = await Promise.all([
      messages.trim('alpha', { keep: 4 }),
      messages.trim('alpha', { keep: 4 }),
      messages.trim('alpha', { keep: 4 }),
    ]);
    expect(removed.reduce((sum, count) => sum + count, 0)).toBe(6);
    expect(await messages.list('alpha')).toEqual(numbered(10).slice(6));
  });

  it('refuses a bad keep or limit with config_invalid naming the field', async () => {
    const messages = messagesUnderTest();
    await expect(messages.trim('alpha', { keep: 0 })).rejects.toMatchObject({
      code: 'config_invalid',
      fields: [{ path: 'keep' }],
    });
    await expect(messages.trim('alpha', { keep: 1, limit: 1.5 })).rejects.toMatchObject({
      code: 'config_invalid',
      fields: [{ path: 'limit' }],
    });
  });
}
