import { copyPlain } from '../../shared/copy-plain.js';
import {
  approvalJson,
  approvalListing,
  approvalRecord,
  checkApprovalDecision,
  checkApprovalRequest,
  decidedApproval,
  matchesListing,
  type ApprovalListing,
} from '../approval-rules.js';
import {
  APPROVAL_STATES,
  type ApprovalRecord,
  type ApprovalStore,
} from '../contracts/approval-store.js';
import { CONFLICT, retryOnConflict } from '../retry-on-conflict.js';
import type { RedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';
import { readJsonValues } from './read-json-values.js';

/** Approvals deleted per transaction by `deleteByAgent`. */
const DELETE_BATCH = 200;
/** Index members read per page when a listing has more filters than the index it reads. */
const FILTERED_PAGE = 200;
/**
 * Separates `requested_at` from `approval_id` in index members. It sorts below every other
 * byte, so members in reverse byte order are approvals newest `requested_at` first, then by
 * `approval_id` descending: SQL's `ORDER BY requested_at DESC, approval_id DESC`.
 */
const MEMBER_SEPARATOR = '\u0000';

function indexMember(approval: ApprovalRecord): string {
  return `${approval.requested_at}${MEMBER_SEPARATOR}${approval.approval_id}`;
}

/** The approval id of a member (`requested_at`, checked to be an ISO time, holds no separator). */
function approvalIdOf(member: string): string {
  return member.slice(member.indexOf(MEMBER_SEPARATOR) + 1);
}

/** Orders strings by their UTF-8 bytes, as Redis orders sorted-set members. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * A {@link ApprovalStore} in Redis. Each approval is a JSON value; sorted sets index them per
 * state, per agent and per run (members `requested_at` NUL `approval_id`, all of score 0, so they
 * sort by their bytes), and every write moves the record and its index entries in one Lua step
 * (the backend's compare-and-set): a request writes only when the key is absent, and a decision
 * only when the record is still the pending one it read, so of two decisions exactly one lands.
 */
export function createRedisApprovalStore(
  connection: RedisConnection,
  keys: RedisKeys,
): ApprovalStore {
  async function readApprovals(members: readonly string[]): Promise<ApprovalRecord[]> {
    return readJsonValues<ApprovalRecord>(
      connection,
      members.map((member) => keys.approval(approvalIdOf(member))),
    );
  }

  /** Up to `count` members of `index` below `below` (exclusive; '+' for the newest), newest first. */
  function membersBelow(index: string, below: string, count: number): Promise<string[]> {
    return connection.run((client) =>
      client.zrange(index, below, '-', 'BYLEX', 'REV', 'LIMIT', 0, count),
    );
  }

  /** Every approval is in exactly one state's index: the newest of each, merged. */
  async function newestOfAll(limit: number): Promise<ApprovalRecord[]> {
    const lists = await Promise.all(
      APPROVAL_STATES.map((state) => membersBelow(keys.approvalsWithState(state), '+', limit)),
    );
    // A member decided between two reads shows in two lists: once is enough.
    const members = [...new Set(lists.flat())].sort((a, b) => compareBytes(b, a)).slice(0, limit);
    return readApprovals(members);
  }

  /** The index a filtered listing reads: of those its filters name, the one with fewest members. */
  async function narrowestIndex(listing: ApprovalListing): Promise<string> {
    const indexes = [
      ...(listing.run_id === undefined ? [] : [keys.runApprovals(listing.run_id)]),
      ...(listing.agent_id === undefined ? [] : [keys.agentApprovals(listing.agent_id)]),
      ...(listing.state === undefined ? [] : [keys.approvalsWithState(listing.state)]),
    ];
    if (indexes.length === 1) return indexes[0]!;
    const sizes = await Promise.all(
      indexes.map((index) => connection.run((client) => client.zcard(index))),
    );
    return indexes[sizes.indexOf(Math.min(...sizes))]!;
  }

  return {
    async request(approval) {
      checkApprovalRequest(approval);
      const record = approvalRecord(approval);
      const value = approvalJson(record, 'approval');
      return connection.run(() =>
        connection.scripts.compareAndSet(keys.approval(record.approval_id), null, value, {
          member: indexMember(record),
          remove: [],
          add: [
            keys.approvalsWithState(record.state),
            keys.agentApprovals(record.agent_id),
            keys.runApprovals(record.run_id),
          ],
        }),
      );
    },

    async get(approvalId) {
      const value = await connection.run((client) => client.get(keys.approval(approvalId)));
      return value === null ? undefined : (JSON.parse(value) as ApprovalRecord);
    },

    async list(options) {
      const listing = approvalListing(options);
      if (listing.limit === 0) return [];
      const filters = [listing.state, listing.agent_id, listing.run_id].filter(
        (filter) => filter !== undefined,
      ).length;
      if (filters === 0) return newestOfAll(listing.limit);
      const index = await narrowestIndex(listing);
      // An index that is exactly the filter needs one page of `limit`; others are paged through.
      const page = filters === 1 ? listing.limit : Math.max(listing.limit, FILTERED_PAGE);
      const found: ApprovalRecord[] = [];
      let below = '+';
      for (;;) {
        const members = await membersBelow(index, below, page);
        // An approval that changed state since the index was read is judged as it is now.
        for (const approval of await readApprovals(members)) {
          if (!matchesListing(approval, listing)) continue;
          found.push(approval);
          if (found.length === listing.limit) return found;
        }
        if (members.length < page) return found;
        below = `(${members.at(-1)!}`;
      }
    },

    async decide(approvalId, decision) {
      checkApprovalDecision(approvalId, decision);
      // Applied after a read: a copy, so what the caller changes meanwhile does not reach it.
      decision = copyPlain(decision);
      const key = keys.approval(approvalId);
      return retryOnConflict(`deciding approval ${approvalId}`, async () => {
        const current = await connection.run((client) => client.get(key));
        if (current === null) return undefined;
        const approval = JSON.parse(current) as ApprovalRecord;
        if (approval.state !== 'pending') return undefined;
        const value = approvalJson(decidedApproval(approval, decision), 'decision');
        // Lands only if the record is still the pending one read: a racing decision that
        // landed first makes this a conflict, and the next attempt finds it decided.
        const written = await connection.run(() =>
          connection.scripts.compareAndSet(key, current, value, {
            member: indexMember(approval),
            remove: [keys.approvalsWithState('pending')],
            add: [keys.approvalsWithState(decision.state)],
          }),
        );
        return written ? (JSON.parse(value) as ApprovalRecord) : CONFLICT;
      });
    },

    async deleteByAgent(agentId) {
      const agentIndex = keys.agentApprovals(agentId);
      const stateIndexes = APPROVAL_STATES.map((state) => keys.approvalsWithState(state));
      // Batch by batch, each in one transaction: a reader sees an approval with all its index
      // entries, or none of them. Approvals requested meanwhile are deleted too.
      for (;;) {
        const members = await connection.run((client) =>
          client.zrange(agentIndex, 0, String(DELETE_BATCH - 1)),
        );
        if (members.length === 0) return;
        // The run of each, for its run index; a run's id never changes, so a read now will do.
        const byRun = new Map<string, string[]>();
        for (const approval of await readApprovals(members)) {
          const ofRun = byRun.get(approval.run_id) ?? [];
          byRun.set(approval.run_id, [...ofRun, indexMember(approval)]);
        }
        await connection.run((client) => {
          const transaction = client
            .multi()
            .del(...members.map((member) => keys.approval(approvalIdOf(member))))
            .zrem(agentIndex, ...members);
          for (const index of stateIndexes) transaction.zrem(index, ...members);
          for (const [runId, ofRun] of byRun) transaction.zrem(keys.runApprovals(runId), ...ofRun);
          return transaction.exec();
        });
      }
    },
  };
}
