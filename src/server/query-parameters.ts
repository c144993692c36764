import type { Context } from 'hono';
import {
  REPORTED_AGENT_STATES,
  RUN_STATUSES,
  type ReportedAgentState,
  type RunStatus,
} from '../storage/contracts/index.js';
import { invalidField } from './api-error.js';

/** Event ids of every backend: a sequence number (`42`) or a stream id (`1700000000000-3`). */
const EVENT_ID = /^\d+(?:-\d+)?$/;

/** An integer query parameter within bounds, or `fallback` when absent; a 400 naming it otherwise. */
export function integerParameter(
  c: Context,
  name: string,
  bounds: { min: number; max: number; fallback: number },
): number {
  const text = c.req.query(name);
  if (text === undefined) return bounds.fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < bounds.min || value > bounds.max) {
    throw invalidField(name, `must be an integer from ${bounds.min} to ${bounds.max}`);
  }
  return value;
}

/** The `state` filter of the agent list, if given. */
export function agentStateParameter(c: Context): ReportedAgentState | undefined {
  const text = c.req.query('state');
  if (text === undefined) return undefined;
  const state = REPORTED_AGENT_STATES.find((candidate) => candidate === text);
  if (!state) throw invalidField('state', `must be one of ${REPORTED_AGENT_STATES.join(', ')}`);
  return state;
}

/** The `status` filter of the run list: one status or several, comma-separated. */
export function runStatusParameter(c: Context): RunStatus[] | undefined {
  const text = c.req.query('status');
  if (text === undefined) return undefined;
  return text.split(',').map((part) => {
    const status = RUN_STATUSES.find((candidate) => candidate === part.trim());
    if (!status) throw invalidField('status', `must be one or more of ${RUN_STATUSES.join(', ')}`);
    return status;
  });
}

/**
 * Where an event stream starts: after the `Last-Event-ID` a reconnecting browser sends, else
 * after `?since=` (`0` replays from the start), else live only.
 */
export function eventCursor(c: Context): string | undefined {
  const header = c.req.header('last-event-id');
  if (header !== undefined && header.trim() !== '') {
    if (!EVENT_ID.test(header.trim())) throw invalidField('Last-Event-ID', 'must be an event id');
    return header.trim();
  }
  const since = c.req.query('since');
  if (since === undefined) return undefined;
  if (!EVENT_ID.test(since)) throw invalidField('since', 'must be an event id, or 0 for the start');
  return since;
}
