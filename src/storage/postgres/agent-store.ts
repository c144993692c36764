import type { AgentDefinition } from '../../config/agent-definition.js';
import { applyAgentPatch } from '../apply-patch.js';
import {
  applyStatsDelta,
  type AgentRecord,
  type AgentState,
  type AgentStats,
  type AgentStore,
} from '../contracts/agent-store.js';
import type { PostgresDatabase } from './database.js';

interface AgentRow {
  agent_id: string;
  definition: AgentDefinition;
  state: string;
  pause_reason: string | null;
  anchor_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
  stats: AgentStats;
}

/** The statement parameters of a record, in column order; JSONB values as JSON text. */
function toParameters(record: AgentRecord): unknown[] {
  return [
    record.agent_id,
    JSON.stringify(record.definition),
    record.state,
    record.pause_reason,
    record.anchor_at,
    record.created_at,
    record.updated_at,
    record.version,
    JSON.stringify(record.stats),
  ];
}

function toRecord(row: AgentRow): AgentRecord {
  return {
    agent_id: row.agent_id,
    definition: row.definition,
    state: row.state as AgentState,
    pause_reason: row.pause_reason,
    anchor_at: row.anchor_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
    stats: row.stats,
  };
}

/** An {@link AgentStore} in a Postgres schema. */
export function createPostgresAgentStore(database: PostgresDatabase): AgentStore {
  const agents = database.table('agents');
  const insert = `
    INSERT INTO ${agents} (agent_id, definition, state, pause_reason, anchor_at, created_at, updated_at, version, stats)
    VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8, $9::jsonb)
    ON CONFLICT (agent_id) DO NOTHING
  `;
  const replace = `
    UPDATE ${agents} SET definition = $2::jsonb, state = $3, pause_reason = $4, anchor_at = $5,
      updated_at = $6, version = $7, stats = $8::jsonb
    WHERE agent_id = $1
  `;

  /**
   * Reads, changes and writes one agent in a transaction. `FOR UPDATE` locks the row
   * before the read, so a change by another connection waits rather than being lost.
   */
  function readModifyWrite(
    agentId: string,
    change: (record: AgentRecord) => AgentRecord,
  ): Promise<AgentRecord | undefined> {
    return database.transaction(async (client) => {
      const { rows } = await client.query<AgentRow>(
        `SELECT * FROM ${agents} WHERE agent_id = $1 FOR UPDATE`,
        [agentId],
      );
      const row = rows[0];
      if (!row) return undefined;
      const next = change(toRecord(row));
      await client.query(replace, [
        next.agent_id,
        JSON.stringify(next.definition),
        next.state,
        next.pause_reason,
        next.anchor_at,
        next.updated_at,
        next.version,
        JSON.stringify(next.stats),
      ]);
      return next;
    });
  }

  return {
    async insert(record) {
      // One statement is atomic: the first insert wins, every other changes nothing.
      const { rowCount } = await database.write(insert, toParameters(record));
      return rowCount === 1;
    },

    async get(agentId) {
      const { rows } = await database.read<AgentRow>(
        `SELECT * FROM ${agents} WHERE agent_id = $1`,
        [agentId],
      );
      return rows[0] && toRecord(rows[0]);
    },

    async list() {
      const { rows } = await database.read<AgentRow>(`SELECT * FROM ${agents} ORDER BY agent_id`);
      return rows.map(toRecord);
    },

    async update(agentId, patch) {
      return readModifyWrite(agentId, (record) => applyAgentPatch(record, patch, new Date()));
    },

    async updateStats(agentId, delta) {
      // Counters are not part of the definition or state: version stays as it is.
      return readModifyWrite(agentId, (record) => ({
        ...record,
        stats: applyStatsDelta(record.stats, delta),
      }));
    },

    async delete(agentId) {
      const { rowCount } = await database.write(`DELETE FROM ${agents} WHERE agent_id = $1`, [
        agentId,
      ]);
      return rowCount === 1;
    },
  };
}
