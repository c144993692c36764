import {
  approvalJson,
  approvalListing,
  checkApprovalDecision,
  checkApprovalRequest,
} from '../approval-rules.js';
import type { ApprovalStore } from '../contracts/approval-store.js';
import {
  APPROVAL_COLUMNS,
  APPROVAL_JSON_COLUMNS,
  approvalFilters,
  approvalFromRow,
  approvalToRow,
  type ApprovalRow,
} from '../sql/approval-rows.js';
import { parsedJsonColumn } from '../sql/row-mapping.js';
import type { PostgresDatabase, PreparedStatement } from './connection.js';

const COLUMNS = APPROVAL_COLUMNS.join(', ');
const toRecord = (row: ApprovalRow) => approvalFromRow(row, parsedJsonColumn);

/**
 * A {@link ApprovalStore} in a Postgres schema. Each write is one statement, atomic on its own:
 * a request's `INSERT … ON CONFLICT DO NOTHING`, and a decision's `UPDATE … WHERE state =
 * 'pending'`: of two decisions at once the second waits on the first's row lock, then finds the
 * row no longer pending and changes nothing.
 */
export function createPostgresApprovalStore(database: PostgresDatabase): ApprovalStore {
  const approvals = database.table('approvals');
  const insert = database.prepare(`
    INSERT INTO ${approvals} (${COLUMNS})
    VALUES (${APPROVAL_COLUMNS.map((column, index) =>
      APPROVAL_JSON_COLUMNS.includes(column) ? `$${index + 1}::jsonb` : `$${index + 1}`,
    ).join(', ')})
    ON CONFLICT (approval_id) DO NOTHING RETURNING approval_id
  `);
  const select = database.prepare(`SELECT ${COLUMNS} FROM ${approvals} WHERE approval_id = $1`);
  const decide = database.prepare(`
    UPDATE ${approvals} SET state = $2, decided_by = $3, decided_at = $4, note = $5,
      edited_arguments = $6::jsonb
    WHERE approval_id = $1 AND state = 'pending'
    RETURNING ${COLUMNS}
  `);
  const removeByAgent = database.prepare(`DELETE FROM ${approvals} WHERE agent_id = $1`);
  /** A listing statement per set of filters, so each is planned on its own index. */
  const listings = new Map<string, PreparedStatement>();

  function listingStatement(where: string, limitParameter: number): PreparedStatement {
    let statement = listings.get(where);
    if (!statement) {
      statement = database.prepare(`
        SELECT ${COLUMNS} FROM ${approvals} ${where}
        ORDER BY requested_at DESC, approval_id DESC LIMIT $${limitParameter}
      `);
      listings.set(where, statement);
    }
    return statement;
  }

  return {
    async request(approval) {
      checkApprovalRequest(approval);
      const row = approvalToRow(approval);
      const values = APPROVAL_COLUMNS.map((column) => row[column]);
      const { rows } = await database.write<{ approval_id: string }>(insert, values);
      return rows.length === 1;
    },

    async get(approvalId) {
      const { rows } = await database.read<ApprovalRow>(select, [approvalId]);
      return rows[0] && toRecord(rows[0]);
    },

    async list(options) {
      const listing = approvalListing(options);
      const { where, values } = approvalFilters(listing, (index) => `$${index}`);
      const statement = listingStatement(where, values.length + 1);
      const { rows } = await database.read<ApprovalRow>(statement, [...values, listing.limit]);
      return rows.map(toRecord);
    },

    async decide(approvalId, decision) {
      checkApprovalDecision(approvalId, decision);
      const { rows } = await database.write<ApprovalRow>(decide, [
        approvalId,
        decision.state,
        decision.decided_by,
        decision.decided_at,
        decision.note,
        approvalJson(decision.edited_arguments, 'decision.edited_arguments'),
      ]);
      return rows[0] && toRecord(rows[0]);
    },

    async deleteByAgent(agentId) {
      await database.write(removeByAgent, [agentId]);
    },
  };
}
