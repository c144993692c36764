import type Database from 'better-sqlite3';
import {
  approvalJson,
  approvalListing,
  checkApprovalDecision,
  checkApprovalRequest,
} from '../approval-rules.js';
import type { ApprovalStore } from '../contracts/approval-store.js';
import {
  APPROVAL_COLUMNS,
  approvalFilters,
  approvalFromRow,
  approvalToRow,
  type ApprovalRow,
} from '../sql/approval-rows.js';
import { parseJsonColumn } from '../sql/row-mapping.js';
import type { SqliteConnection } from './connection.js';

const COLUMNS = APPROVAL_COLUMNS.join(', ');
const toRecord = (row: ApprovalRow) => approvalFromRow(row, parseJsonColumn);

/**
 * A {@link ApprovalStore} in a SQLite database. Writes commit in the connection's batch; each is
 * one statement, atomic on its own: the insert-if-absent of a request, and the decision's
 * `UPDATE … WHERE state = 'pending'`, which of two decisions matches only for the first.
 */
export function createSqliteApprovalStore({ database, writes }: SqliteConnection): ApprovalStore {
  const insert = database.prepare<[ApprovalRow]>(`
    INSERT INTO approvals (${COLUMNS})
    VALUES (${APPROVAL_COLUMNS.map((column) => `@${column}`).join(', ')})
    ON CONFLICT (approval_id) DO NOTHING
  `);
  const select = database.prepare<[string], ApprovalRow>(
    `SELECT ${COLUMNS} FROM approvals WHERE approval_id = ?`,
  );
  const decide = database.prepare<[Record<string, string | null>], ApprovalRow>(`
    UPDATE approvals SET state = @state, decided_by = @decided_by, decided_at = @decided_at,
      note = @note, edited_arguments = @edited_arguments
    WHERE approval_id = @approval_id AND state = 'pending'
    RETURNING ${COLUMNS}
  `);
  const removeByAgent = database.prepare<[string]>('DELETE FROM approvals WHERE agent_id = ?');
  /** A listing statement per set of filters, each planned on its own index. */
  const listings = new Map<string, Database.Statement<unknown[], ApprovalRow>>();

  function listingStatement(where: string): Database.Statement<unknown[], ApprovalRow> {
    let statement = listings.get(where);
    if (!statement) {
      statement = database.prepare<unknown[], ApprovalRow>(`
        SELECT ${COLUMNS} FROM approvals ${where}
        ORDER BY requested_at DESC, approval_id DESC LIMIT ?
      `);
      listings.set(where, statement);
    }
    return statement;
  }

  return {
    async request(approval) {
      checkApprovalRequest(approval);
      const row = approvalToRow(approval);
      return writes.write(['approvals', approval.approval_id], () => insert.run(row).changes === 1);
    },

    async get(approvalId) {
      const row = writes.read(['approvals', approvalId], () => select.get(approvalId));
      return row && toRecord(row);
    },

    async list(options) {
      const listing = approvalListing(options);
      const { where, values } = approvalFilters(listing, () => '?');
      const statement = listingStatement(where);
      return writes
        .read(['approvals'], () => statement.all(...values, listing.limit))
        .map(toRecord);
    },

    async decide(approvalId, decision) {
      checkApprovalDecision(approvalId, decision);
      const parameters = {
        approval_id: approvalId,
        state: decision.state,
        decided_by: decision.decided_by,
        decided_at: decision.decided_at,
        note: decision.note,
        edited_arguments: approvalJson(decision.edited_arguments, 'decision.edited_arguments'),
      };
      const row = await writes.write(['approvals', approvalId], () => decide.get(parameters));
      return row && toRecord(row);
    },

    async deleteByAgent(agentId) {
      await writes.write(['approvals'], () => {
        removeByAgent.run(agentId);
      });
    },
  };
}
