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
import {
  compareAndSet,
  KnownVersions,
  rowVersion,
  versionedUpdate,
  type Versioned,
  type VersionedUpdate,
} from './compare-and-set.js';
import type { PostgresDatabase } from './connection.js';
import { batchedReads } from './batched-reads.js';
import { POSTGRES_DIALECT } from './migrations.js';

/** Agents remembered for writing without a read (`compare-and-set.ts`). */
const KNOWN_LIMIT = 10_000;

const AGENTS = tableStatements(AGENTS_TABLE, POSTGRES_DIALECT);
const COLUMNS = AGENTS.columns;
const toRecord = (row: AgentRow): AgentRecord => agentFromRow(row, parsedJsonColumn);

/** How agents' rows are written: shared by the agent store and the run phases (`run-phases.ts`). */
export interface PostgresAgentRows {
  /** The agents this process last wrote or read, with their versions. */
  readonly known: KnownVersions<AgentRecord>;
  /** An agent's compare-and-set UPDATE. */
  readonly update: VersionedUpdate<AgentRecord>;
}

/** The {@link PostgresAgentRows} of the `agents` table in `database`'s schema. */
export function postgresAgentRows(database: PostgresDatabase): PostgresAgentRows {
  return {
    known: new KnownVersions<AgentRecord>({ limit: KNOWN_LIMIT }),
    update: versionedUpdate({
      table: database.table('agents'),
      key: 'agent_id',
      assignments: AGENTS.assignments,
      assigned: AGENTS.changing.length,
      values(next) {
        const row = agentToRow(next);
        return [row.agent_id, ...valuesOf(row, AGENTS.changing)];
      },
    }),
  };
}

/**
 * An {@link AgentStore} in a Postgres schema; `agentRows` shared with the store's run phases,
 * so that each knows the versions the other wrote.
 */
export function createPostgresAgentStore(
  database: PostgresDatabase,
  now: Clock = systemClock,
  agentRows: PostgresAgentRows = postgresAgentRows(database),
): AgentStore {
  const agents = database.table('agents');
  const insert = database.prepare(`
    INSERT INTO ${agents} (${COLUMNS}) VALUES (${AGENTS.parameters})
    ON CONFLICT (agent_id) DO NOTHING
    RETURNING ${rowVersion.column}
  `);
  const select = database.prepare(
    `SELECT ${rowVersion.column}, ${COLUMNS} FROM ${agents} WHERE agent_id = ANY($1::text[])`,
  );
  // A fleet's ticks falling due together read their agents in one statement.
  const readAgent = batchedReads<AgentRow & Versioned>(database, select, 'agent_id');
  const selectAll = database.prepare(`SELECT ${COLUMNS} FROM ${agents} ORDER BY agent_id`);
  const replace = database.prepare(agentRows.update.text());
  const remove = database.prepare(`DELETE FROM ${agents} WHERE agent_id = $1`);
  const { known } = agentRows;

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
        const row = await readAgent(agentId);
        return row && { version: row.row_version, value: toRecord(row) };
      },
      decide(record) {
        if (!record) return { result: undefined };
        // No next value (a condition not met): nothing to write, checked against a fresh read.
        const next = change(record);
        return next ? { result: next, write: next } : { result: undefined };
      },
      async write(next, version) {
        const parameters = agentRows.update.parameters(next, version);
        const { rows } = await database.write<Versioned>(replace, parameters);
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
      // Its stats change when its run ends.
      return known.fromRow(agentId, await readAgent(agentId), toRecord);
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
