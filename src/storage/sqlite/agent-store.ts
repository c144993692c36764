import type { AgentDefinition } from '../../config/agent-definition.js';
import { applyAgentPatch } from '../apply-patch.js';
import {
  applyStatsDelta,
  type AgentRecord,
  type AgentState,
  type AgentStats,
  type AgentStore,
} from '../contracts/agent-store.js';
import type { SqliteConnection } from './database.js';

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

/** An {@link AgentStore} in a SQLite database; writes commit in the connection's batch. */
export function createSqliteAgentStore({ database, writes }: SqliteConnection): AgentStore {
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
   * Reads, changes and writes one agent. It runs in the batch's `BEGIN IMMEDIATE` transaction,
   * which takes the write lock before the read, so no other process's change slips in between.
   */
  function readModifyWrite(
    agentId: string,
    change: (record: AgentRecord) => AgentRecord,
  ): AgentRecord | undefined {
    const row = select.get(agentId);
    if (!row) return undefined;
    const next = change(toRecord(row));
    replace.run(toRow(next));
    return next;
  }

  /**
   * Definitions and states are what the API acknowledges (promise 6): their batch is synced to
   * disk before they resolve, although the connection runs with `synchronous = NORMAL`.
   */
  const durable = { durable: true };

  return {
    async insert(record) {
      const row = toRow(record);
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

    async update(agentId, patch) {
      // Applied when the batch commits: a copy, so later changes by the caller do not reach it.
      const snapshot = structuredClone(patch);
      return writes.write(
        ['agents', agentId],
        () => readModifyWrite(agentId, (record) => applyAgentPatch(record, snapshot, new Date())),
        durable,
      );
    },

    async updateStats(agentId, delta) {
      // Counters are not part of the definition or state: version stays as it is.
      const snapshot = structuredClone(delta);
      return writes.write(['agents', agentId], () =>
        readModifyWrite(agentId, (record) => ({
          ...record,
          stats: applyStatsDelta(record.stats, snapshot),
        })),
      );
    },

    async delete(agentId) {
      return writes.write(['agents', agentId], () => remove.run(agentId).changes === 1, durable);
    },
  };
}
