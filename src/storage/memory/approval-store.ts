import {
  approvalJson,
  approvalListing,
  approvalRecord,
  checkApprovalDecision,
  checkApprovalRequest,
  compareApprovals,
  decidedApproval,
  matchesListing,
} from '../approval-rules.js';
import type { ApprovalRecord, ApprovalStore } from '../contracts/approval-store.js';

/** Adds `id` to the set under `key`, creating it when absent. */
function addTo(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  if (ids) ids.add(id);
  else index.set(key, new Set([id]));
}

/** Takes `id` out of the set under `key`, dropping the set once empty. */
function removeFrom(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  ids?.delete(id);
  if (ids?.size === 0) index.delete(key);
}

/**
 * A {@link ApprovalStore} held in this process's memory. Records are kept as their JSON text, so
 * what a read returns is exactly what the other backends would (a copy, as JSON round-trips
 * it). Each method checks and writes without awaiting anything, so no other call runs between a
 * decision's check of `pending` and its write.
 */
export function createMemoryApprovalStore(): ApprovalStore {
  /** Each approval as JSON, by id. */
  const approvals = new Map<string, string>();
  /** Approval ids per agent and per run, so filtered listings read only their own. */
  const byAgent = new Map<string, Set<string>>();
  const byRun = new Map<string, Set<string>>();

  function read(approvalId: string): ApprovalRecord | undefined {
    const json = approvals.get(approvalId);
    return json === undefined ? undefined : (JSON.parse(json) as ApprovalRecord);
  }

  function write(approval: ApprovalRecord): ApprovalRecord {
    const json = approvalJson(approvalRecord(approval), 'approval');
    approvals.set(approval.approval_id, json);
    return JSON.parse(json) as ApprovalRecord;
  }

  return {
    async request(approval) {
      checkApprovalRequest(approval);
      if (approvals.has(approval.approval_id)) return false;
      write(approval);
      addTo(byAgent, approval.agent_id, approval.approval_id);
      addTo(byRun, approval.run_id, approval.approval_id);
      return true;
    },

    async get(approvalId) {
      return read(approvalId);
    },

    async list(options) {
      const listing = approvalListing(options);
      const ids =
        listing.run_id !== undefined
          ? (byRun.get(listing.run_id) ?? new Set<string>())
          : listing.agent_id !== undefined
            ? (byAgent.get(listing.agent_id) ?? new Set<string>())
            : approvals.keys();
      return [...ids]
        .map((id) => read(id)!)
        .filter((approval) => matchesListing(approval, listing))
        .sort(compareApprovals)
        .slice(0, listing.limit);
    },

    async decide(approvalId, decision) {
      checkApprovalDecision(approvalId, decision);
      const current = read(approvalId);
      if (current?.state !== 'pending') return undefined;
      return write(decidedApproval(current, decision));
    },

    async deleteByAgent(agentId) {
      for (const approvalId of byAgent.get(agentId) ?? []) {
        const approval = read(approvalId);
        approvals.delete(approvalId);
        if (approval) removeFrom(byRun, approval.run_id, approvalId);
      }
      byAgent.delete(agentId);
    },
  };
}
