import type { AgentDefinition } from '../../config/agent-definition.js';
import { applyAgentPatch } from '../apply-patch.js';
import {
  applyStatsDelta,
  type AgentRecord,
  type AgentState,
  type AgentStats,
  type AgentStore,
} from '../contracts/agent-store.js';
import type { SqliteDatabase } from './database.js';

interface AgentRow {
  agent_id: string;
  definition: string;
  state: string;
  pause_reason: string | null;
  anchor_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
  stats: string;
}

function toRow(record: AgentRecord): AgentRow {
  return {
    agent_id: record.agent_id,
    definition: JSON.stringify(record.definition),
    state: record.state,
    pause_reason: record.pause_reason,
    anchor_at: record.anchor_at,
    created_at: record.created_at,
    updated_at: record.updated_at,
    version: record.version,
    stats: JSON.stringify(record.stats),
  };
}

function toRecord(row: AgentRow): AgentRecord {
  return {
    agent_id: row.agent_id,
    definition: JSON.parse(row.definition) as AgentDefinition,
    state: row.state as AgentState,
    pause_reason: row.pause_reason,
    anchor_at: row.anchor_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
    stats: JSON.parse(row.stats) as AgentStats,
  };
}

/** An {@link AgentStore} in a SQLite database. */
export function createSqliteAgentStore(database: SqliteDatabase): AgentStore {
  const insert = database.prepare<[AgentRow]>(`
    INSERT INTO agents (agent_id, definition, state, pause_reason, anchor_at, created_at, updated_at, version, stats)
    VALUES (@agent_id, @definition, @state, @pause_reason, @anchor_at, @created_at, @updated_at, @version, @stats)
    ON CONFLICT (agent_id) DO NOTHING
  `);
  const replace = database.prepare<[AgentRow]>(`
    UPDATE agents SET definition = @definition, state = @state, pause_reason = @pause_reason,
      anchor_at = @anchor_at, updated_at = @updated_at, version = @version, stats = @stats
    WHERE agent_id = @agent_id
  `);
  const select = database.prepare<[string], AgentRow>('SELECT * FROM agents WHERE agent_id = ?');
  const selectAll = database.prepare<[], AgentRow>('SELECT * FROM agents ORDER BY agent_id');
  const remove = database.prepare<[string]>('DELETE FROM agents WHERE agent_id = ?');

  /**
   * Reads, changes and writes one agent in a `BEGIN IMMEDIATE` transaction, which takes
   * the write lock before the read, so no other process's change slips in between.
   */
  const readModifyWrite = database.transaction(
    (agentId: string, change: (record: AgentRecord) => AgentRecord): AgentRecord | undefined => {
      const row = select.get(agentId);
      if (!row) return undefined;
      const next = change(toRecord(row));
      replace.run(toRow(next));
      return next;
    },
  );

  /**
   * Definitions and states are what the API acknowledges (promise 6): their commits are synced to
   * disk even though the connection runs with `synchronous = NORMAL` for the busier tables.
   */
  const durably = <T>(write: () => T): T => {
    database.pragma('synchronous = FULL');
    try {
      return write();
    } finally {
      database.pragma('synchronous = NORMAL');
    }
  };

  return {
    async insert(record) {
      return durably(() => insert.run(toRow(record)).changes === 1);
    },

    async get(agentId) {
      const row = select.get(agentId);
      return row && toRecord(row);
    },

    async list() {
      return selectAll.all().map(toRecord);
    },

    async update(agentId, patch) {
      return durably(() =>
        readModifyWrite.immediate(agentId, (record) => applyAgentPatch(record, patch, new Date())),
      );
    },

    async updateStats(agentId, delta) {
      // Counters are not part of the definition or state: version stays as it is.
      return readModifyWrite.immediate(agentId, (record) => ({
        ...record,
        stats: applyStatsDelta(record.stats, delta),
      }));
    },

    async delete(agentId) {
      return durably(() => remove.run(agentId).changes === 1);
    },
  };
}
