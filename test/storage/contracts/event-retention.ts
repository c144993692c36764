import { expect, it } from 'vitest';
import type { EventLog, NewEvent, NightshiftEvent } from '../../../src/storage/index.js';
import { minute } from './fixtures.js';

/** An `agent_message` of `agentId` stamped `at` minutes after the fixtures' origin. */
function messageAt(agentId: string, at: number): NewEvent {
  return {
    type: 'agent_message',
    agent_id: agentId,
    run_id: null,
    timestamp: minute(at),
    payload: { message: `${agentId}-${at}` },
  };
}

const messagesOf = (events: readonly NightshiftEvent[]): string[] =>
  events.map((event) => (event.payload as { message: string }).message);

/** The retention cases of the EventLog contract (`prune`), inside its describe. */
export function describeEventRetention(openLog: () => Promise<EventLog>): void {
  it('prunes an agent’s events older than the cutoff, in batches, from its history and the fleet’s', async () => {
    const log = await openLog();
    for (let at = 0; at < 5; at += 1) {
      await log.append(messageAt('alpha', at));
      await log.append(messageAt('bravo', at));
    }
    const cutoff = { agent_id: 'alpha', before: minute(3) };

    expect(await log.prune({ ...cutoff, limit: 1, dry_run: true })).toBe(3);
    expect(await log.read({ agent_id: 'alpha' })).toHaveLength(5);

    expect(await log.prune({ ...cutoff, limit: 2 })).toBe(2);
    expect(await log.prune({ ...cutoff, limit: 2 })).toBe(1);
    expect(await log.prune(cutoff)).toBe(0);

    expect(messagesOf(await log.read({ agent_id: 'alpha' }))).toEqual(['alpha-3', 'alpha-4']);
    expect(messagesOf(await log.read({ agent_id: 'bravo' }))).toHaveLength(5);
    expect(messagesOf(await log.read())).toEqual([
      'bravo-0',
      'bravo-1',
      'bravo-2',
      'alpha-3',
      'bravo-3',
      'alpha-4',
      'bravo-4',
    ]);
    // Appends go on after a prune.
    await log.append(messageAt('alpha', 9));
    expect(messagesOf(await log.read({ agent_id: 'alpha' }))).toEqual([
      'alpha-3',
      'alpha-4',
      'alpha-9',
    ]);
  });

  it('counts each pruned event once when two prunes run at once', async () => {
    const log = await openLog();
    for (let at = 0; at < 9; at += 1) await log.append(messageAt('alpha', at));
    const cutoff = { agent_id: 'alpha', before: minute(6), limit: 4 };
    let removed = 0;
    for (;;) {
      const counts = await Promise.all([log.prune(cutoff), log.prune(cutoff)]);
      if (counts.every((count) => count === 0)) break;
      removed += counts[0] + counts[1];
    }
    expect(removed).toBe(6);
    expect(messagesOf(await log.read())).toEqual(['alpha-6', 'alpha-7', 'alpha-8']);
  });

  it('refuses a bad cutoff with config_invalid naming the field', async () => {
    const log = await openLog();
    await expect(log.prune({ agent_id: 'alpha', before: 'soon' })).rejects.toMatchObject({
      code: 'config_invalid',
      fields: [{ path: 'before' }],
    });
  });
}
