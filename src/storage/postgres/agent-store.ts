import type { AgentDefinition } from '../../config/agent-definition.js';
import { applyAgentPatch } from '../apply-patch.js';
import {
  applyStatsDelta,
  type AgentRecord,
  type AgentState,
  type AgentStats,
  type AgentStore,
} from '../contracts/agent-store.js';
import {
  compareAndSet,
  KnownVersions,
  ROW_VERSION,
  unchangedSince,
  type Versioned,
} from './compare-and-set.js';
import type { PostgresDatabase } from './database.js';

/** Agents remembered for writing without a read (`compare-and-set.ts`). */
const KNOWN_LIMIT = 10_000;

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

const COLUMNS =
  'agent_id, definition, state, pause_reason, anchor_at, created_at, updated_at, version, stats';

/** The statement parameters of a record, in {@link COLUMNS} order; JSONB values as JSON text. */
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
  const insert = database.prepare(`
    INSERT INTO ${agents} (${COLUMNS}) VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8, $9::jsonb)
    ON CONFLICT (agent_id) DO NOTHING
    RETURNING ${ROW_VERSION}
  `);
  const select = database.prepare(
    `SELECT ${ROW_VERSION}, ${COLUMNS} FROM ${agents} WHERE agent_id = $1`,
  );
  const selectAll = database.prepare(`SELECT ${COLUMNS} FROM ${agents} ORDER BY agent_id`);
  const replace = database.prepare(`
    UPDATE ${agents} SET definition = $2::jsonb, state = $3, pause_reason = $4, anchor_at = $5,
      updated_at = $6, version = $7, stats = $8::jsonb
    WHERE agent_id = $1 AND ${unchangedSince(9)}
    RETURNING ${ROW_VERSION}
  `);
  const remove = database.prepare(`DELETE FROM ${agents} WHERE agent_id = $1`);
  const known = new KnownVersions<AgentRecord>({ limit: KNOWN_LIMIT });

  /** Reads, changes and writes one agent by compare-and-set (`compare-and-set.ts`). */
  function readModifyWrite(
    agentId: string,
    change: (record: AgentRecord) => AgentRecord,
  ): Promise<AgentRecord | undefined> {
    return compareAndSet({
      what: `updating agent ${agentId}`,
      key: agentId,
      known,
      async read() {
        const { rows } = await database.read<AgentRow & Versioned>(select, [agentId]);
        return rows[0] && { version: rows[0].row_version, value: toRecord(rows[0]) };
      },
      decide(record) {
        if (!record) return { result: undefined };
        const next = change(record);
        return { result: next, write: next };
      },
      async write(next, version) {
        const { rows } = await database.write<Versioned>(replace, [
          next.agent_id,
          JSON.stringify(next.definition),
          next.state,
          next.pause_reason,
          next.anchor_at,
          next.updated_at,
          next.version,
          JSON.stringify(next.stats),
          version,
        ]);
        return rows[0]?.row_version;
      },
    });
  }

  return {
    async insert(record) {
      // One statement is atomic: the first insert wins, every other changes nothing.
      const { rows } = await database.write<Versioned>(insert, toParameters(record));
      const version = rows[0]?.row_version;
      // As a read would give it back: only the columns.
      if (version !== undefined) known.remember(record.agent_id, version, toRecord(record));
      return version !== undefined;
    },

    async get(agentId) {
      const { rows } = await database.read<AgentRow & Versioned>(select, [agentId]);
      const row = rows[0];
      if (!row) return undefined;
      const record = toRecord(row);
      // Most reads of one agent come before a change of it (its stats, when a run ends).
      known.remember(agentId, row.row_version, record);
      return record;
    },

    async list() {
      const { rows } = await database.read<AgentRow>(selectAll);
      return rows.map(toRecord);
    },

    async update(agentId, patch) {
      // Applied after a read: a copy, so what the caller changes meanwhile does not reach it.
      patch = structuredClone(patch);
      return readModifyWrite(agentId, (record) => applyAgentPatch(record, patch, new Date()));
    },

    async updateStats(agentId, delta) {
      // Applied after a read: a copy, so what the caller changes meanwhile does not reach it.
      delta = structuredClone(delta);
      // Counters are not part of the definition or state: version stays as it is.
      return readModifyWrite(agentId, (record) => ({
        ...record,
        stats: applyStatsDelta(record.stats, delta),
      }));
    },

    async delete(agentId) {
      const { rowCount } = await database.write(remove, [agentId]);
      return rowCount === 1;
    },
  };
}
