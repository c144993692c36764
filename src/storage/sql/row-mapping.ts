import type { AgentDefinition } from '../../config/agent-definition.js';
import type { AgentRecord, AgentState, AgentStats } from '../contracts/agent-store.js';
import type { NightshiftEvent } from '../contracts/event-log.js';
import type {
  AttemptRecord,
  ErrorInfo,
  ReplayMode,
  RunRecord,
  RunStatus,
  RunTrigger,
} from '../contracts/run-store.js';
import type { Usage } from '../contracts/usage.js';

/**
 * How a dialect's driver hands back a JSON column: SQLite as the text written, Postgres
 * (JSONB) already parsed. Rows are written with JSON columns as text in both.
 */
export type JsonColumnReader = (value: unknown) => unknown;

/** SQLite's {@link JsonColumnReader}: the column holds JSON text. */
export const parseJsonColumn: JsonColumnReader = (value) => JSON.parse(value as string);

/** Postgres' {@link JsonColumnReader}: the driver has parsed the JSONB already. */
export const parsedJsonColumn: JsonColumnReader = (value) => value;

/** A row of `agents`, JSON columns as the driver gives them. */
export interface AgentRow {
  agent_id: string;
  definition: unknown;
  state: string;
  pause_reason: string | null;
  /** Schema version 6: the pause note, NULL when there is none. */
  paused_by: string | null;
  paused_until: string | null;
  anchor_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
  stats: unknown;
}

/** A row of `runs`, JSON columns as the driver gives them. */
export interface RunRow {
  run_id: string;
  agent_id: string;
  trigger: string;
  scheduled_at: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  status: string;
  query: string;
  attempts: unknown;
  output: string | null;
  /** Schema version 7: the answer parsed (JSON text), NULL without one. */
  output_json: unknown;
  error: unknown;
  usage: unknown;
  skip_reason: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
  /** Schema version 9: a replay's original run and mode (JSON text), NULL on every other run. */
  replay_of: string | null;
  replay_mode: unknown;
}

/** A row of `events`; `id` is a number in SQLite and text (a BIGSERIAL) in Postgres. */
export interface EventRow {
  id: number | string;
  agent_id: string;
  run_id: string | null;
  type: string;
  timestamp: string;
  payload: unknown;
}

/** The row an agent is written as, JSON columns as text. */
export function agentToRow(record: AgentRecord): AgentRow {
  return {
    ...record,
    paused_by: record.paused_by ?? null,
    paused_until: record.paused_until ?? null,
    definition: JSON.stringify(record.definition),
    stats: JSON.stringify(record.stats),
  };
}

/** The agent a row holds. */
export function agentFromRow(row: AgentRow, readJson: JsonColumnReader): AgentRecord {
  return {
    agent_id: row.agent_id,
    definition: readJson(row.definition) as AgentDefinition,
    state: row.state as AgentState,
    pause_reason: row.pause_reason,
    // Absent rather than null, as every backend keeps a record without a note.
    ...(row.paused_by === null ? {} : { paused_by: row.paused_by }),
    ...(row.paused_until === null ? {} : { paused_until: row.paused_until }),
    anchor_at: row.anchor_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
    stats: readJson(row.stats) as AgentStats,
  };
}

/** The row a run is written as, JSON columns as text. */
export function runToRow(run: RunRecord): RunRow {
  return {
    ...run,
    attempts: JSON.stringify(run.attempts),
    // `undefined` (a record from before version 7) is stored as NULL too.
    output_json:
      run.output_json === null || run.output_json === undefined
        ? null
        : JSON.stringify(run.output_json),
    error: run.error === null ? null : JSON.stringify(run.error),
    usage: JSON.stringify(run.usage),
    replay_of: run.replay_of ?? null,
    replay_mode: run.replay_mode === undefined ? null : JSON.stringify(run.replay_mode),
  };
}

/** The run a row holds. */
export function runFromRow(row: RunRow, readJson: JsonColumnReader): RunRecord {
  return {
    run_id: row.run_id,
    agent_id: row.agent_id,
    trigger: row.trigger as RunTrigger,
    scheduled_at: row.scheduled_at,
    created_at: row.created_at,
    started_at: row.started_at,
    ended_at: row.ended_at,
    status: row.status as RunStatus,
    query: row.query,
    attempts: readJson(row.attempts) as AttemptRecord[],
    output: row.output,
    output_json: row.output_json === null ? null : readJson(row.output_json),
    error: row.error === null ? null : (readJson(row.error) as ErrorInfo),
    usage: readJson(row.usage) as Usage,
    skip_reason: row.skip_reason,
    lease_owner: row.lease_owner,
    lease_expires_at: row.lease_expires_at,
    // Absent rather than null, as every backend keeps a run that is not a replay.
    ...(row.replay_of === null ? {} : { replay_of: row.replay_of }),
    ...(row.replay_mode === null ? {} : { replay_mode: readJson(row.replay_mode) as ReplayMode }),
  };
}

/** The event a row holds; its id as text, whatever the dialect's integer. */
export function eventFromRow(row: EventRow, readJson: JsonColumnReader): NightshiftEvent {
  return {
    id: String(row.id),
    type: row.type,
    agent_id: row.agent_id,
    run_id: row.run_id,
    timestamp: row.timestamp,
    payload: readJson(row.payload),
  } as NightshiftEvent;
}

/** The values of `row` in the order of `columns` (a table's schema order), for positional parameters. */
export function valuesOf<Row extends object>(
  row: Row,
  columns: readonly { readonly name: string }[],
): unknown[] {
  return columns.map((column) => (row as Record<string, unknown>)[column.name]);
}
