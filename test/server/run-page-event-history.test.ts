import { describe, expect, it } from 'vitest';
import {
  cursorNear,
  readRecentEvents,
  readRunEvents,
  type EventReader,
} from '../../src/server/dashboard/event-history.js';
import { compareEventIds, type NightshiftEvent, type RunRecord } from '../../src/storage/index.js';

const START = Date.parse('2026-11-01T00:00:00Z');

/**
 * A log read the way every backend reads (after an id, optionally one agent's, oldest first),
 * counting the events it hands out. Ids are sequence numbers (`42`, SQLite, Postgres, memory)
 * or stream ids (`1700000000000-3`, Redis), one event a second across four agents.
 */
function fakeLog(count: number, style: 'sequence' | 'stream') {
  const events: NightshiftEvent[] = Array.from({ length: count }, (_, index) => {
    const at = START + index * 1000;
    return {
      id: style === 'sequence' ? String(index + 1) : `${at}-${index % 3}`,
      type: 'user_message',
      agent_id: `agent_${index % 4}`,
      run_id: `agent_${index % 4}.${Math.floor(index / 40)}`,
      timestamp: new Date(at).toISOString(),
      payload: { message: `event ${index}` },
    };
  });
  let handedOut = 0;
  let reads = 0;
  const reader: EventReader = {
    async readEvents(options = {}) {
      reads += 1;
      const after = options.after ?? '0';
      const limit = options.limit ?? 1000;
      const found: NightshiftEvent[] = [];
      for (const event of events) {
        if (found.length >= limit) break;
        if (after !== '0' && compareEventIds(event.id, after) <= 0) continue;
        if (options.agent_id !== undefined && event.agent_id !== options.agent_id) continue;
        found.push(event);
      }
      handedOut += found.length;
      return found;
    },
  };
  return {
    events,
    reader,
    counts: () => ({ handedOut, reads }),
  };
}

function runOf(runId: string, events: readonly NightshiftEvent[]): RunRecord {
  const own = events.filter((event) => event.run_id === runId);
  const first = own[0]?.timestamp ?? '';
  const last = own.at(-1)?.timestamp ?? '';
  return {
    run_id: runId,
    agent_id: own[0]?.agent_id ?? '',
    trigger: 'schedule',
    scheduled_at: first,
    created_at: first,
    started_at: first,
    ended_at: last,
    status: 'completed',
    query: 'q',
    attempts: [],
    output: null,
    output_json: null,
    error: null,
    usage: { requests: 0, input_tokens: 0, output_tokens: 0, total_tokens: 0 },
    skip_reason: null,
    lease_owner: null,
    lease_expires_at: null,
  };
}

describe.each(['sequence', 'stream'] as const)('event history with %s ids', (style) => {
  it('reads the newest events of an agent without reading the history', async () => {
    const log = fakeLog(40_000, style);
    const recent = await readRecentEvents(log.reader, { agentId: 'agent_2', count: 50 });
    const expected = log.events.filter((event) => event.agent_id === 'agent_2').slice(-50);
    expect(recent).toEqual(expected);
    // About 2 log2(n) probes of at most 50 events, not 10,000 events of the agent.
    expect(log.counts().handedOut).toBeLessThan(5_000);

    const fleet = await readRecentEvents(log.reader, { count: 7 });
    expect(fleet).toEqual(log.events.slice(-7));
  });

  it('returns every event when there are fewer than asked', async () => {
    const log = fakeLog(30, style);
    expect(await readRecentEvents(log.reader, { agentId: 'agent_1', count: 50 })).toEqual(
      log.events.filter((event) => event.agent_id === 'agent_1'),
    );
    expect(await readRecentEvents(fakeLog(0, style).reader, { count: 50 })).toEqual([]);
  });

  it('seeks the cursor of an instant', async () => {
    const log = fakeLog(40_000, style);
    const instant = START + 31_234 * 1000;
    const cursor = await cursorNear(log.reader, instant);
    const [first] = await log.reader.readEvents({ after: cursor, limit: 2 });
    expect(Date.parse(first?.timestamp ?? '')).toBeLessThanOrEqual(instant);
    expect(Date.parse(first?.timestamp ?? '')).toBeGreaterThan(instant - 5_000);
    expect(await cursorNear(log.reader, START - 1)).toBe('0');
  });

  it("collects one run's events from a long log with bounded reads", async () => {
    const log = fakeLog(40_000, style);
    const run = runOf('agent_1.500', log.events);
    const { events, complete } = await readRunEvents(log.reader, run);
    expect(complete).toBe(true);
    expect(events).toEqual(log.events.filter((event) => event.run_id === 'agent_1.500'));
    expect(log.counts().handedOut).toBeLessThan(2_000);
  });
});
