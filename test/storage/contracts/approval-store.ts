import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ApprovalDecision,
  ApprovalRecord,
  ApprovalStore,
} from '../../../src/storage/index.js';
import type { StoreFactory, StoreFixture } from './fixtures.js';

const REQUESTED_AT = '2026-12-03T10:00:00.000Z';

/** `REQUESTED_AT` plus `seconds`, as ISO text. */
function at(seconds: number): string {
  return new Date(Date.parse(REQUESTED_AT) + seconds * 1_000).toISOString();
}

/** A pending approval of tool call `toolCallId` of `runId` (of agent `alpha`), requested at `REQUESTED_AT`. */
export function approvalRecord(
  runId: string,
  toolCallId: string,
  overrides: Partial<ApprovalRecord> = {},
): ApprovalRecord {
  return {
    approval_id: `${runId}/${toolCallId}`,
    run_id: runId,
    agent_id: 'alpha',
    tool_name: 'shell',
    tool_call_id: toolCallId,
    arguments: { command: 'rm -rf /tmp/cache', flags: ['-v'], dry_run: null },
    state: 'pending',
    requested_at: REQUESTED_AT,
    expires_at: at(3_600),
    on_timeout: 'deny',
    decided_by: null,
    decided_at: null,
    note: null,
    edited_arguments: null,
    ...overrides,
  };
}

/** A person's decision, made a minute after the request. */
export function decisionBy(
  decidedBy: string,
  overrides: Partial<ApprovalDecision> = {},
): ApprovalDecision {
  return {
    state: 'approved',
    decided_by: decidedBy,
    decided_at: at(60),
    note: `decided by ${decidedBy}`,
    edited_arguments: null,
    ...overrides,
  };
}

/** The ids of `approvals`, in order. */
function ids(approvals: readonly ApprovalRecord[]): string[] {
  return approvals.map((approval) => approval.approval_id);
}

/**
 * The ApprovalStore contract (atomic requests, one decision per approval, indexed listings),
 * run against one backend.
 */
export function describeApprovalStore(name: string, factory: StoreFactory): void {
  describe(`ApprovalStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let approvals: ApprovalStore;

    beforeEach(async () => {
      fixture = await factory();
      approvals = fixture.store.approvals;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('records a request and reads it back as written; an unknown id reads as undefined', async () => {
      const approval = approvalRecord('run-1', 'call-1');
      expect(await approvals.request(approval)).toBe(true);
      expect(await approvals.get(approval.approval_id)).toEqual(approval);
      expect(await approvals.get('run-1/call-missing')).toBeUndefined();
    });

    it('round-trips any JSON value in arguments and edited_arguments, null included', async () => {
      const values: unknown[] = [
        null,
        'a string with "quotes" and ünïcode ✓',
        0,
        -12.5,
        true,
        [],
        {},
        [1, 'two', null, { three: [3] }],
        { nested: { list: [null, false, { deep: 'yes' }], empty: {}, none: null } },
      ];
      for (const [index, value] of values.entries()) {
        const approval = approvalRecord('run-json', `call-${index}`, { arguments: value });
        expect(await approvals.request(approval)).toBe(true);
        expect((await approvals.get(approval.approval_id))?.arguments).toEqual(value);
        const decided = await approvals.decide(
          approval.approval_id,
          decisionBy('ana', { edited_arguments: value }),
        );
        expect(decided?.edited_arguments).toEqual(value);
        expect((await approvals.get(approval.approval_id))?.edited_arguments).toEqual(value);
      }
    });

    it('refuses a second request of one approval_id, leaving the first unchanged', async () => {
      const first = approvalRecord('run-1', 'call-1');
      expect(await approvals.request(first)).toBe(true);
      const second = approvalRecord('run-1', 'call-1', {
        tool_name: 'other_tool',
        arguments: { replaced: true },
        requested_at: at(5),
      });
      expect(await approvals.request(second)).toBe(false);
      expect(await approvals.get(first.approval_id)).toEqual(first);
      expect(ids(await approvals.list())).toEqual([first.approval_id]);
    });

    it('lets exactly one of many simultaneous requests of one approval_id through', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          approvals.request(approvalRecord('run-1', 'call-1', { tool_name: `tool-${index}` })),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await approvals.get('run-1/call-1'))?.tool_name).toBe(
        `tool-${results.indexOf(true)}`,
      );
    });

    it('lists newest requested_at first, ties by approval_id descending, filtered by state, agent and run', async () => {
      const records = [
        approvalRecord('run-a', 'call-1', { requested_at: at(0) }),
        approvalRecord('run-a', 'call-2', { requested_at: at(10) }),
        approvalRecord('run-a', 'call-3', { requested_at: at(10) }),
        approvalRecord('run-b', 'call-1', { requested_at: at(20) }),
        approvalRecord('run-c', 'call-1', { agent_id: 'bravo', requested_at: at(5) }),
        approvalRecord('run-c', 'call-2', { agent_id: 'bravo', requested_at: at(30) }),
      ];
      // Requested out of order: the listing orders, not the insertion.
      for (const record of [...records].reverse())
        expect(await approvals.request(record)).toBe(true);
      await approvals.decide('run-a/call-2', decisionBy('ana'));
      await approvals.decide('run-c/call-1', decisionBy('ben', { state: 'denied' }));

      expect(ids(await approvals.list())).toEqual([
        'run-c/call-2',
        'run-b/call-1',
        'run-a/call-3',
        'run-a/call-2',
        'run-c/call-1',
        'run-a/call-1',
      ]);
      expect(ids(await approvals.list({ state: 'pending' }))).toEqual([
        'run-c/call-2',
        'run-b/call-1',
        'run-a/call-3',
        'run-a/call-1',
      ]);
      expect(ids(await approvals.list({ state: 'approved' }))).toEqual(['run-a/call-2']);
      expect(ids(await approvals.list({ state: 'denied' }))).toEqual(['run-c/call-1']);
      expect(await approvals.list({ state: 'expired' })).toEqual([]);
      expect(ids(await approvals.list({ agent_id: 'bravo' }))).toEqual([
        'run-c/call-2',
        'run-c/call-1',
      ]);
      expect(ids(await approvals.list({ run_id: 'run-a' }))).toEqual([
        'run-a/call-3',
        'run-a/call-2',
        'run-a/call-1',
      ]);
      expect(ids(await approvals.list({ agent_id: 'alpha', state: 'pending' }))).toEqual([
        'run-b/call-1',
        'run-a/call-3',
        'run-a/call-1',
      ]);
      expect(
        ids(await approvals.list({ agent_id: 'alpha', run_id: 'run-a', state: 'pending' })),
      ).toEqual(['run-a/call-3', 'run-a/call-1']);
      expect(await approvals.list({ agent_id: 'bravo', run_id: 'run-a' })).toEqual([]);
      expect(await approvals.list({ agent_id: 'nobody' })).toEqual([]);
      // Whole records, as decided.
      expect(await approvals.list({ state: 'denied' })).toEqual([
        { ...records[4], ...decisionBy('ben', { state: 'denied' }) },
      ]);
    });

    it('lists at most limit approvals (100 when not told), the newest', async () => {
      await Promise.all(
        Array.from({ length: 105 }, (_, index) =>
          approvals.request(
            approvalRecord(`run-${index % 3}`, `call-${String(index).padStart(3, '0')}`, {
              requested_at: at(index),
            }),
          ),
        ),
      );
      const all = await approvals.list();
      expect(all).toHaveLength(100);
      expect(all[0]?.requested_at).toBe(at(104));
      expect(all.at(-1)?.requested_at).toBe(at(5));
      expect(ids(await approvals.list({ limit: 3 }))).toEqual([
        'run-2/call-104',
        'run-1/call-103',
        'run-0/call-102',
      ]);
      expect(ids(await approvals.list({ run_id: 'run-0', limit: 2 }))).toEqual([
        'run-0/call-102',
        'run-0/call-099',
      ]);
      expect(ids(await approvals.list({ state: 'pending', agent_id: 'alpha', limit: 2 }))).toEqual([
        'run-2/call-104',
        'run-1/call-103',
      ]);
      expect(await approvals.list({ limit: 0 })).toEqual([]);
      expect(await approvals.list({ limit: 200 })).toHaveLength(105);
    });

    it('decides a pending approval once: the record with the decision, as get shows it', async () => {
      const approval = approvalRecord('run-1', 'call-1');
      await approvals.request(approval);
      const decision = decisionBy('ana', {
        note: 'only the cache',
        edited_arguments: { command: 'rm -rf /tmp/cache/old' },
      });
      const decided = await approvals.decide(approval.approval_id, decision);
      expect(decided).toEqual({ ...approval, ...decision });
      expect(await approvals.get(approval.approval_id)).toEqual(decided);
    });

    it('refuses a second decision and leaves the first as it was', async () => {
      const approval = approvalRecord('run-1', 'call-1');
      await approvals.request(approval);
      const first = await approvals.decide(approval.approval_id, decisionBy('ana'));
      expect(
        await approvals.decide(
          approval.approval_id,
          decisionBy('ben', { state: 'denied', note: 'too late' }),
        ),
      ).toBeUndefined();
      expect(
        await approvals.decide(
          approval.approval_id,
          decisionBy('timeout', { state: 'expired', note: null }),
        ),
      ).toBeUndefined();
      expect(await approvals.get(approval.approval_id)).toEqual(first);
      expect(ids(await approvals.list({ state: 'approved' }))).toEqual([approval.approval_id]);
      expect(await approvals.list({ state: 'denied' })).toEqual([]);
    });

    it('decides nothing for an approval never requested', async () => {
      expect(await approvals.decide('run-1/call-missing', decisionBy('ana'))).toBeUndefined();
      expect(await approvals.get('run-1/call-missing')).toBeUndefined();
      expect(await approvals.list()).toEqual([]);
    });

    it('lets exactly one of two simultaneous decisions win, and keeps the winner', async () => {
      for (let round = 0; round < 10; round += 1) {
        const approval = approvalRecord('run-race', `call-${round}`);
        await approvals.request(approval);
        const decisions = [
          decisionBy('ana'),
          decisionBy('ben', { state: 'denied', note: 'no' }),
        ] as const;
        const results = await Promise.all(
          decisions.map((decision) => approvals.decide(approval.approval_id, decision)),
        );
        const winners = results.filter((result) => result !== undefined);
        expect(winners).toHaveLength(1);
        const winner = decisions[results.findIndex((result) => result !== undefined)]!;
        expect(winners[0]).toEqual({ ...approval, ...winner });
        expect(await approvals.get(approval.approval_id)).toEqual(winners[0]);
        expect(ids(await approvals.list({ state: winner.state, run_id: 'run-race' }))).toContain(
          approval.approval_id,
        );
      }
      expect(await approvals.list({ state: 'pending' })).toEqual([]);
    });

    it("deletes an agent's approvals and their listings, and no other agent's", async () => {
      const alpha = [
        approvalRecord('run-a', 'call-1'),
        approvalRecord('run-a', 'call-2', { requested_at: at(1) }),
        approvalRecord('run-b', 'call-1', { requested_at: at(2) }),
      ];
      const bravo = approvalRecord('run-c', 'call-1', { agent_id: 'bravo', requested_at: at(3) });
      for (const approval of [...alpha, bravo]) await approvals.request(approval);
      await approvals.decide('run-a/call-2', decisionBy('ana'));

      await approvals.deleteByAgent('alpha');
      for (const approval of alpha)
        expect(await approvals.get(approval.approval_id)).toBeUndefined();
      expect(await approvals.list({ agent_id: 'alpha' })).toEqual([]);
      expect(await approvals.list({ run_id: 'run-a' })).toEqual([]);
      expect(await approvals.list({ state: 'approved' })).toEqual([]);
      expect(ids(await approvals.list({ state: 'pending' }))).toEqual([bravo.approval_id]);
      expect(ids(await approvals.list())).toEqual([bravo.approval_id]);
      expect(await approvals.decide('run-a/call-1', decisionBy('ana'))).toBeUndefined();
      // The ids are free again, and an agent with none deletes nothing.
      expect(await approvals.request(alpha[0]!)).toBe(true);
      expect(ids(await approvals.list({ agent_id: 'alpha' }))).toEqual([alpha[0]!.approval_id]);
      await approvals.deleteByAgent('nobody');
      expect(await approvals.list()).toHaveLength(2);
    });

    it('refuses bad input naming the field, before writing anything', async () => {
      const approval = approvalRecord('run-1', 'call-1');
      await expect(approvals.request({ ...approval, approval_id: '' })).rejects.toThrow(
        /approval\.approval_id/,
      );
      await expect(approvals.request({ ...approval, arguments: undefined })).rejects.toThrow(
        /approval\.arguments/,
      );
      await expect(
        approvals.request({ ...approval, requested_at: '2026-12-03 10:00' }),
      ).rejects.toThrow(/approval\.requested_at/);
      await expect(
        approvals.request({ ...approval, state: 'maybe' as ApprovalRecord['state'] }),
      ).rejects.toThrow(/approval\.state/);
      expect(await approvals.list()).toEqual([]);

      await approvals.request(approval);
      await expect(
        approvals.decide(approval.approval_id, decisionBy('ana', { state: 'pending' })),
      ).rejects.toThrow(/decision\.state/);
      await expect(
        approvals.decide(approval.approval_id, decisionBy('ana', { edited_arguments: undefined })),
      ).rejects.toThrow(/decision\.edited_arguments/);
      expect(await approvals.get(approval.approval_id)).toEqual(approval);

      await expect(approvals.list({ limit: -1 })).rejects.toThrow(/limit/);
      await expect(approvals.list({ limit: 1.5 })).rejects.toThrow(/limit/);
      await expect(approvals.list({ state: 'maybe' as ApprovalRecord['state'] })).rejects.toThrow(
        /state/,
      );
    });

    it('hands out copies: changing what a call returned or was given changes nothing stored', async () => {
      const approval = approvalRecord('run-1', 'call-1', { arguments: { list: [1] } });
      await approvals.request(approval);
      (approval.arguments as { list: number[] }).list.push(2);
      const read = await approvals.get(approval.approval_id);
      expect(read?.arguments).toEqual({ list: [1] });
      (read!.arguments as { list: number[] }).list.push(3);
      expect((await approvals.get(approval.approval_id))?.arguments).toEqual({ list: [1] });
    });
  });
}
