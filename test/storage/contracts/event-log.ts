import { afterEach, describe, expect, it } from 'vitest';
import {
  compareEventIds,
  type EventLog,
  type NewEvent,
  type NightshiftEvent,
} from '../../../src/storage/index.js';
import {
  agentMessage,
  WAIT,
  type EventLogFactory,
  type EventLogFactoryOptions,
  type EventLogFixture,
} from './fixtures.js';
import { describeEventRetention } from './event-retention.js';

function messagesOf(events: readonly NightshiftEvent[]): string[] {
  return events.map((event) => (event.payload as { message: string }).message);
}

function expectIncreasingIds(events: readonly NightshiftEvent[]): void {
  for (let index = 1; index < events.length; index += 1) {
    expect(compareEventIds(events[index]!.id, events[index - 1]!.id)).toBeGreaterThan(0);
  }
}

/** The EventLog contract (append, read, subscribe, bounded history), run against one backend. */
export function describeEventLog(name: string, factory: EventLogFactory): void {
  describe(`EventLog contract: ${name}`, () => {
    const fixtures: EventLogFixture[] = [];

    async function openLog(options?: EventLogFactoryOptions): Promise<EventLog> {
      const fixture = await factory(options);
      fixtures.push(fixture);
      return fixture.log;
    }

    afterEach(async () => {
      await Promise.all(fixtures.splice(0).map((fixture) => fixture.cleanup()));
    });

    describeEventRetention(() => openLog());

    it('gives each appended event an increasing id and reads them back in order', async () => {
      const log = await openLog();
      const appended: NightshiftEvent[] = [];
      for (const text of ['one', 'two', 'three', 'four']) {
        appended.push(await log.append(agentMessage('alpha', text)));
      }
      expect(appended[0]).toMatchObject(agentMessage('alpha', 'one'));
      expectIncreasingIds(appended);
      expect(new Set(appended.map((event) => event.id)).size).toBe(4);
      expect(await log.read()).toEqual(appended);
    });

    it('reads after an id, for one agent, and up to a limit', async () => {
      const log = await openLog();
      const appended: NightshiftEvent[] = [];
      for (let index = 0; index < 6; index += 1) {
        appended.push(
          await log.append(agentMessage(index % 2 === 0 ? 'alpha' : 'bravo', `m${index}`)),
        );
      }
      expect(messagesOf(await log.read({ after: appended[3]!.id }))).toEqual(['m4', 'm5']);
      expect(messagesOf(await log.read({ after: '0' }))).toHaveLength(6);
      expect(messagesOf(await log.read({ agent_id: 'alpha' }))).toEqual(['m0', 'm2', 'm4']);
      expect(
        messagesOf(await log.read({ agent_id: 'bravo', after: appended[1]!.id, limit: 1 })),
      ).toEqual(['m3']);
      expect(messagesOf(await log.read({ limit: 2 }))).toEqual(['m0', 'm1']);
      expect(await log.read({ after: appended[5]!.id })).toEqual([]);
      expect(await log.read({ agent_id: 'nobody' })).toEqual([]);
    });

    it('hands every subscriber each event appended after it subscribed, in order', async () => {
      const log = await openLog();
      await log.append(agentMessage('alpha', 'before'));
      const first: NightshiftEvent[] = [];
      const second: NightshiftEvent[] = [];
      log.subscribe((event) => first.push(event));
      log.subscribe((event) => second.push(event));
      const appended = await Promise.all(
        Array.from({ length: 30 }, (_, index) => log.append(agentMessage('alpha', `m${index}`))),
      );
      await expect.poll(() => first.length, WAIT).toBe(30);
      await expect.poll(() => second.length, WAIT).toBe(30);
      const inOrder = [...appended].sort((a, b) => compareEventIds(a.id, b.id));
      expect(first).toEqual(inOrder);
      expect(second).toEqual(inOrder);
      expect(await log.read({ after: inOrder[0]!.id, limit: 1 })).toEqual([inOrder[1]]);
    });

    it('says when a subscription has its starting point, and delivers what comes after it', async () => {
      const log = await openLog();
      await log.append(agentMessage('alpha', 'before'));
      const heard: NightshiftEvent[] = [];
      await new Promise<void>((resolve) => {
        log.subscribe((event) => heard.push(event), { onReady: resolve });
      });
      const after = await log.append(agentMessage('alpha', 'after'));
      await expect.poll(() => heard.length, WAIT).toBe(1);
      expect(heard).toEqual([after]);
    });

    it('filters a subscription by agent, and stops after unsubscribing', async () => {
      const log = await openLog();
      const alpha: NightshiftEvent[] = [];
      const all: NightshiftEvent[] = [];
      const unsubscribe = log.subscribe((event) => alpha.push(event), { agent_id: 'alpha' });
      log.subscribe((event) => all.push(event));
      await log.append(agentMessage('alpha', 'a1'));
      await log.append(agentMessage('bravo', 'b1'));
      await log.append(agentMessage('alpha', 'a2'));
      await expect.poll(() => all.length, WAIT).toBe(3);
      await expect.poll(() => alpha.length, WAIT).toBe(2);
      expect(messagesOf(alpha)).toEqual(['a1', 'a2']);

      unsubscribe();
      await log.append(agentMessage('alpha', 'a3'));
      await expect.poll(() => all.length, WAIT).toBe(4);
      expect(messagesOf(alpha)).toEqual(['a1', 'a2']);
    });

    it('filters a subscription by event type, alone or with an agent', async () => {
      const log = await openLog();
      const statuses: NightshiftEvent[] = [];
      const bravoStatuses: NightshiftEvent[] = [];
      const all: NightshiftEvent[] = [];
      log.subscribe((event) => statuses.push(event), { types: ['background_agent_status'] });
      log.subscribe((event) => bravoStatuses.push(event), {
        agent_id: 'bravo',
        types: ['background_agent_status', 'background_task_started'],
      });
      log.subscribe((event) => all.push(event));
      const status = (agentId: string): NewEvent => ({
        ...agentMessage(agentId, ''),
        type: 'background_agent_status',
        payload: { status: 'running' } as never,
      });
      const appended = await Promise.all([
        log.append(agentMessage('alpha', 'a1')),
        log.append(status('alpha')),
        log.append(agentMessage('bravo', 'b1')),
        log.append(status('bravo')),
      ]);
      await expect.poll(() => all.length, WAIT).toBe(4);
      await expect.poll(() => statuses.length, WAIT).toBe(2);
      await expect.poll(() => bravoStatuses.length, WAIT).toBe(1);
      const inOrder = [...appended].sort((a, b) => compareEventIds(a.id, b.id));
      expect(all).toEqual(inOrder);
      expect(statuses).toEqual(inOrder.filter((event) => event.type === 'background_agent_status'));
      expect(bravoStatuses).toEqual([appended[3]]);
    });

    it('keeps delivering to other listeners, and appending, when a listener throws', async () => {
      const errors: unknown[] = [];
      const log = await openLog({ onError: (error) => errors.push(error) });
      const heard: NightshiftEvent[] = [];
      log.subscribe(() => {
        throw new Error('listener failed');
      });
      log.subscribe((event) => heard.push(event));
      await log.append(agentMessage('alpha', 'one'));
      await log.append(agentMessage('alpha', 'two'));
      await expect.poll(() => heard.length, WAIT).toBe(2);
      expect(messagesOf(heard)).toEqual(['one', 'two']);
      expect(messagesOf(await log.read())).toEqual(['one', 'two']);
      await expect.poll(() => errors.length, WAIT).toBe(2);
      expect((errors[0] as Error).message).toBe('listener failed');
    });

    it('keeps append order for every subscriber when a listener appends', async () => {
      const log = await openLog();
      // The appending listener subscribes first, so a log that delivered re-entrantly
      // would hand the follow-up to the second listener before the event that caused it.
      log.subscribe((event) => {
        if (messagesOf([event])[0] === 'trigger')
          void log.append(agentMessage('alpha', 'follow-up'));
      });
      const heard: NightshiftEvent[] = [];
      log.subscribe((event) => heard.push(event));
      await log.append(agentMessage('alpha', 'trigger'));
      await expect.poll(() => heard.length, WAIT).toBe(2);
      await log.append(agentMessage('alpha', 'last'));
      await expect.poll(() => heard.length, WAIT).toBe(3);
      expect(messagesOf(heard)).toEqual(['trigger', 'follow-up', 'last']);
      expectIncreasingIds(heard);
    });

    it('keeps what one listener or caller does to an event from reaching anyone else', async () => {
      const log = await openLog();
      const second: NightshiftEvent[] = [];
      // A backend may hand out copies, or shared frozen events (where the change throws).
      const tamper = (event: NightshiftEvent, text: string) => {
        try {
          (event.payload as { message: string }).message = text;
        } catch {
          // Frozen: nothing changed.
        }
      };
      log.subscribe((event) => tamper(event, 'changed'));
      log.subscribe((event) => second.push(event));
      const appended = await log.append(agentMessage('alpha', 'original'));
      tamper(appended, 'changed by the caller');
      await expect.poll(() => second.length, WAIT).toBe(1);
      expect(messagesOf(second)).toEqual(['original']);
      expect(messagesOf(await log.read())).toEqual(['original']);
    });

    it('keeps a bounded history, dropping the oldest events', async () => {
      const maxEvents = 5;
      const log = await openLog({ maxEvents });
      const appended: NightshiftEvent[] = [];
      for (let index = 0; index < maxEvents * 4; index += 1) {
        appended.push(await log.append(agentMessage('alpha', `m${index}`)));
      }
      const kept = await log.read();
      // Backends may trim in batches, so allow some slack above the bound, but not much.
      expect(kept.length).toBeGreaterThanOrEqual(maxEvents);
      expect(kept.length).toBeLessThanOrEqual(maxEvents * 2);
      expect(kept).toEqual(appended.slice(-kept.length));
      const next = await log.append(agentMessage('alpha', 'after trimming'));
      expect(compareEventIds(next.id, appended.at(-1)!.id)).toBeGreaterThan(0);
    });
  });
}
