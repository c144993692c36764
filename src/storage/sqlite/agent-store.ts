import { agentChanges } from '../agent-changes.js';
import { systemClock, type Clock } from '../clock.js';
import type { AgentRecord, AgentStore } from '../contracts/agent-store.js';
import { agentFromRow, agentToRow, parseJsonColumn, type AgentRow } from '../sql/row-mapping.js';
import { AGENTS_TABLE } from '../sql/agents-table.js';
import { tableStatements } from '../sql/schema.js';
import { SQLITE_DIALECT } from './migrations.js';
import type { SqliteConnection } from './connection.js';

const toRecord = (row: AgentRow): AgentRecord => agentFromRow(row, parseJsonColumn);
const AGENTS = tableStatements(AGENTS_TABLE, SQLITE_DIALECT);

/** An {@link AgentStore} in a SQLite database; writes commit in the connection's batch. */
export function createSqliteAgentStore(
  { database, writes }: SqliteConnection,
  now: Clock = systemClock,
): AgentStore {
  const insert = database.prepare<[AgentRow]>(`
    INSERT INTO agents (${AGENTS.columns}) VALUES (${AGENTS.parameters})
    ON CONFLICT (agent_id) DO NOTHING
  `);
  const replace = database.prepare<[AgentRow]>(`
    UPDATE agents SET ${AGENTS.assignments}
    WHERE agent_id = @agent_id
  `);
  const select = database.prepare<[string], AgentRow>('SELECT * FROM agents WHERE agent_id = ?');
  const selectAll = database.prepare<[], AgentRow>('SELECT * FROM agents ORDER BY agent_id');
  const remove = database.prepare<[string]>('DELETE FROM agents WHERE agent_id = ?');

  /**
   * Reads, changes and writes one agent. It runs in the batch's `BEGIN IMMEDIATE` transaction,
   * which takes the write lock before the read, so no other process's change slips in between.
   */
  function readModifyWrite(
    agentId: string,
    change: (record: AgentRecord) => AgentRecord | undefined,
  ): AgentRecord | undefined {
    const row = select.get(agentId);
    if (!row) return undefined;
    const next = change(toRecord(row));
    if (!next) return undefined;
    replace.run(agentToRow(next));
    return next;
  }

  /**
   * Definitions and states are what the API acknowledges (promise 6): their batch is synced to
   * disk before they resolve, although the connection runs with `synchronous = NORMAL`.
   */
  const durable = { durable: true };

  return {
    async insert(record) {
      const row = agentToRow(record);
      return writes.write(
        ['agents', record.agent_id],
        () => insert.run(row).changes === 1,
        durable,
      );
    },

    async get(agentId) {
      const row = writes.read(['agents', agentId], () => select.get(agentId));
      return row && toRecord(row);
    },

    async list() {
      return writes.read(['agents'], () => selectAll.all()).map(toRecord);
    },

    // Applied when the batch commits, on the copies agentChanges takes.
    ...agentChanges(
      async (agentId, change, options) =>
        writes.write(['agents', agentId], () => readModifyWrite(agentId, change), options),
      now,
    ),

    async delete(agentId) {
      return writes.write(['agents', agentId], () => remove.run(agentId).changes === 1, durable);
    },
  };
}
