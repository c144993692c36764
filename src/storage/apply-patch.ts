import { copyPlain } from '../shared/copy-plain.js';
import type { AgentCondition, AgentPatch, AgentRecord } from './contracts/agent-store.js';
import type { RunPatch, RunRecord, RunStep } from './contracts/run-store.js';

const AGENT_PATCH_KEYS = [
  'definition',
  'state',
  'pause_reason',
  'paused_by',
  'paused_until',
  'anchor_at',
] as const;

const RUN_PATCH_KEYS = [
  'started_at',
  'ended_at',
  'status',
  'attempts',
  'output',
  'output_json',
  'error',
  'usage',
  'skip_reason',
  'lease_owner',
  'lease_expires_at',
] as const;

/**
 * The entries of `patch` named in `keys`, leaving out `undefined` values: a key set to
 * `undefined` means "unchanged", and keys outside the patch type never reach storage.
 */
function pickDefined<T extends object, K extends keyof T>(
  patch: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) {
    if (patch[key] !== undefined) picked[key] = patch[key];
  }
  // One copy of all of it: the caller's values never alias what is stored.
  return copyPlain(picked);
}

/**
 * The agent after a patch: the one definition of how agent patches apply, shared by
 * every backend. Every patch bumps `version` (so other processes notice) and `updated_at`.
 */
export function applyAgentPatch(record: AgentRecord, patch: AgentPatch, now: Date): AgentRecord {
  const {
    paused_by: by,
    paused_until: until,
    ...next
  } = {
    ...record,
    ...pickDefined(patch, AGENT_PATCH_KEYS),
    version: record.version + 1,
    updated_at: now.toISOString(),
  };
  // A pause's note lasts as long as the pause, and a removed part is absent, not null: every
  // backend then reads back the same record.
  const paused = next.state === 'paused';
  return {
    ...next,
    ...(paused && typeof by === 'string' ? { paused_by: by } : {}),
    ...(paused && typeof until === 'string' ? { paused_until: until } : {}),
  };
}

/** True when the agent as stored meets the condition of a conditional update (none: always). */
export function meetsAgentCondition(
  record: AgentRecord,
  condition: AgentCondition | undefined,
): boolean {
  if (!condition) return true;
  if (condition.state !== undefined && record.state !== condition.state) return false;
  if (
    condition.paused_until !== undefined &&
    (record.paused_until ?? null) !== condition.paused_until
  )
    return false;
  return true;
}

/** The run after a patch, shared by every backend; identity fields never change. */
export function applyRunPatch(record: RunRecord, patch: RunPatch): RunRecord {
  return { ...record, ...pickDefined(patch, RUN_PATCH_KEYS) };
}

/** The step after a patch, shared by every backend; `run_id` and `step_id` never change. */
export function applyStepPatch(step: RunStep, patch: Partial<RunStep>): RunStep {
  const { run_id: _runId, step_id: _stepId, ...changes } = patch;
  const keys = Object.keys(changes) as (keyof typeof changes)[];
  return { ...step, ...pickDefined(changes, keys) };
}
