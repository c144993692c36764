import { agentChanges } from '../agent-changes.js';
import { systemClock, type Clock } from '../clock.js';
import type { AgentRecord, AgentStore } from '../contracts/agent-store.js';
import {
  agentFromRow,
  agentToRow,
  parsedJsonColumn,
  valuesOf,
  type AgentRow,
} from '../sql/row-mapping.js';
import { AGENTS_TABLE } from '../sql/agents-table.js';
import { tableStatements } from '../sql/schema.js';
import { compareAndSet, KnownVersions, rowVersion, type Versioned } from './compare-and-set.js';
import type { PostgresDatabase } from './connection.js';
import { POSTGRES_DIALECT } from './migrations.js';

/** Agents remembered for writing without a read (`compare-and-set.ts`). */
const KNOWN_LIMIT = 10_000;

const AGENTS = tableStatements(AGENTS_TABLE, POSTGRES_DIALECT);
const COLUMNS = AGENTS.columns;
const toRecord = (row: AgentRow): AgentRecord => agentFromRow(row, parsedJsonColumn);

/** An {@link AgentStore} in a Postgres schema. */
export function createPostgresAgentStore(
  database: PostgresDatabase,
  now: Clock = systemClock,
): AgentStore {
  const agents = database.table('agents');
  const insert = database.prepare(`
    INSERT INTO ${agents} (${COLUMNS}) VALUES (${AGENTS.parameters})
    ON CONFLICT (agent_id) DO NOTHING
    RETURNING ${rowVersion.column}
  `);
  const select = database.prepare(
    `SELECT ${rowVersion.column}, ${COLUMNS} FROM ${agents} WHERE agent_id = $1`,
  );
  const selectAll = database.prepare(`SELECT ${COLUMNS} FROM ${agents} ORDER BY agent_id`);
  const replace = database.prepare(`
    UPDATE ${agents} SET ${AGENTS.assignments}
    WHERE agent_id = $1 AND ${rowVersion.unchangedSince(AGENTS.changing.length + 2)}
    RETURNING ${rowVersion.column}
  `);
  const remove = database.prepare(`DELETE FROM ${agents} WHERE agent_id = $1`);
  const known = new KnownVersions<AgentRecord>({ limit: KNOWN_LIMIT });

  /** Reads, changes and writes one agent by compare-and-set (`compare-and-set.ts`). */
  function readModifyWrite(
    agentId: string,
    change: (record: AgentRecord) => AgentRecord | undefined,
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
        // No next value (a condition not met): nothing to write, checked against a fresh read.
        const next = change(record);
        return next ? { result: next, write: next } : { result: undefined };
      },
      async write(next, version) {
        const row = agentToRow(next);
        const { rows } = await database.write<Versioned>(replace, [
          row.agent_id,
          ...valuesOf(row, AGENTS.changing),
          version,
        ]);
        return rows[0]?.row_version;
      },
    });
  }

  return {
    async insert(record) {
      // One statement is atomic: the first insert wins, every other changes nothing.
      const { rows } = await database.write<Versioned>(
        insert,
        valuesOf(agentToRow(record), AGENTS_TABLE.columns),
      );
      const version = rows[0]?.row_version;
      // As a read would give it back: only the columns.
      if (version !== undefined) {
        const columns = {
          ...record,
          paused_by: record.paused_by ?? null,
          paused_until: record.paused_until ?? null,
        };
        known.remember(record.agent_id, version, toRecord(columns));
      }
      return version !== undefined;
    },

    async get(agentId) {
      const { rows } = await database.read<AgentRow & Versioned>(select, [agentId]);
      // Its stats change when its run ends.
      return known.fromRow(agentId, rows[0], toRecord);
    },

    async list() {
      const { rows } = await database.read<AgentRow>(selectAll);
      return rows.map(toRecord);
    },

    ...agentChanges(readModifyWrite, now),

    async delete(agentId) {
      const { rowCount } = await database.write(remove, [agentId]);
      return rowCount === 1;
    },
  };
}
