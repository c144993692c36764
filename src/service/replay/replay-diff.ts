/**
 * The step-by-step diff of a replay against the run it replays: which calls each made, paired
 * up, and where the replay first did something else. Pure: it reads two runs and their steps.
 * Imports no Node module, so the dashboard's browser program can read its types.
 */
import type {
  ReplayMode,
  RunRecord,
  RunStatus,
  RunStep,
  ToolOutcome,
} from '../../storage/contracts/run-store.js';

/** A run and its journal, as the diff reads them. */
export interface RunWithSteps {
  run: RunRecord;
  steps: readonly RunStep[];
}

/** A model call, as the diff shows it. */
export interface ModelCallSummary {
  step_id: string;
  request_digest?: string;
  /** The reply's text ('' when the call recorded none). */
  text: string;
  /** The tool calls the reply asked for, in order. */
  tool_calls: { tool_name: string; args: unknown }[];
}

/** A tool call, as the diff shows it. */
export interface ToolCallSummary {
  step_id: string;
  tool_name: string;
  args: unknown;
  /** Null when the call never ended. */
  outcome: ToolOutcome | null;
  result: unknown;
  /** A failed call's message. */
  error?: string;
}

/** What a step of either run did, as the diff shows it. */
export type StepSummary = ModelCallSummary | ToolCallSummary;

/** One row of the diff: a call of the original, of the replay, or of both, paired. */
export interface ReplayDiffRow {
  /** The row's place in the diff, from 0. */
  index: number;
  kind: 'model_call' | 'tool_call';
  /** Null: the original made no such call (the replay made an extra one). */
  original: StepSummary | null;
  /** Null: the replay did not make this call. */
  replay: StepSummary | null;
  same: boolean;
  /** Why the row is not the same, most telling first; empty when it is. */
  differences: string[];
}

/** Where the replay first did something other than the original. */
export interface ReplayDivergence {
  /** The row (its `index`). */
  index: number;
  /** The replay's step at that row (null: the replay did not make the call). */
  step_id: string | null;
  /** The row's first difference. */
  reason: string;
}

/** A replay compared with its original, step by step (`GET /api/runs/{run_id}/replay-diff`). */
export interface ReplayDiff {
  original_run_id: string;
  replay_run_id: string;
  mode: ReplayMode;
  status: { original: RunStatus; replay: RunStatus };
  /** Null: every row is the same. */
  first_divergence: ReplayDivergence | null;
  steps: ReplayDiffRow[];
  /** The final answers (null: the run has none). */
  answer: { original: string | null; replay: string | null; same: boolean };
}

/** What a replay is when its record does not say (every call answered from the journal). */
const RECORDED: ReplayMode = { model: 'recorded', tools: 'recorded' };

/** The reasons a row is not the same, as the API and every surface word them. */
export const REPLAY_DIFFERENCES = {
  missing: 'the replay did not make this call',
  extra: 'the original did not make this call',
  request: 'the request differs (system instruction, history, tools or settings)',
} as const;

type CallStep = RunStep & { kind: 'model_call' | 'tool_call' };

const isCall = (step: RunStep): step is CallStep =>
  step.kind === 'model_call' || step.kind === 'tool_call';

/** Compares a replay with its original: pairs their calls and says where they differ. */
export function diffReplay(original: RunWithSteps, replay: RunWithSteps): ReplayDiff {
  const originals = original.steps.filter(isCall);
  const replays = replay.steps.filter(isCall);
  const partnerOf = pairSteps(originals, replays);
  const rows = orderRows(originals, replays, partnerOf).map((pair, index) =>
    diffRow(index, pair.original, pair.replay),
  );
  const first = rows.find((row) => !row.same);
  return {
    original_run_id: original.run.run_id,
    replay_run_id: replay.run.run_id,
    mode: { ...(replay.run.replay_mode ?? RECORDED) },
    status: { original: original.run.status, replay: replay.run.status },
    first_divergence: first
      ? {
          index: first.index,
          step_id: first.replay?.step_id ?? null,
          reason: first.differences[0] ?? '',
        }
      : null,
    steps: rows,
    answer: {
      original: original.run.output,
      replay: replay.run.output,
      same: original.run.output === replay.run.output,
    },
  };
}

/**
 * The original step each replay step pairs with (by position in `replays`): the one its
 * `replay.source_step_id` names; then model calls in order, k-th unpaired with k-th unpaired;
 * then the tool calls of each pair of model calls, the same call (name and arguments) first,
 * then the same tool, each in order.
 */
function pairSteps(
  originals: readonly CallStep[],
  replays: readonly CallStep[],
): Map<number, number> {
  const partnerOf = new Map<number, number>();
  const taken = new Set<number>();
  const pair = (replayAt: number, originalAt: number) => {
    partnerOf.set(replayAt, originalAt);
    taken.add(originalAt);
  };

  replays.forEach((step, replayAt) => {
    const source = step.replay?.source_step_id;
    if (source === undefined || source === null) return;
    const originalAt = originals.findIndex(
      (candidate, at) => candidate.step_id === source && !taken.has(at),
    );
    if (originalAt !== -1 && originals[originalAt]!.kind === step.kind) pair(replayAt, originalAt);
  });

  const unpaired = (
    steps: readonly CallStep[],
    kind: CallStep['kind'],
    isFree: (at: number) => boolean,
  ) => steps.flatMap((step, at) => (step.kind === kind && isFree(at) ? [at] : []));
  const freeOriginalModels = unpaired(originals, 'model_call', (at) => !taken.has(at));
  const freeReplayModels = unpaired(replays, 'model_call', (at) => !partnerOf.has(at));
  freeReplayModels.forEach((replayAt, k) => {
    const originalAt = freeOriginalModels[k];
    if (originalAt !== undefined) pair(replayAt, originalAt);
  });

  const originalGroups = toolGroups(originals);
  const replayGroups = toolGroups(replays);
  for (const [replayModelAt, replayTools] of replayGroups) {
    // -1: the calls before any model call, which pair with each other.
    const originalModelAt = replayModelAt === -1 ? -1 : partnerOf.get(replayModelAt);
    if (originalModelAt === undefined) continue;
    const originalTools = originalGroups.get(originalModelAt) ?? [];
    const matchBy = (same: (a: CallStep, b: CallStep) => boolean) => {
      for (const replayAt of replayTools) {
        if (partnerOf.has(replayAt)) continue;
        const originalAt = originalTools.find(
          (at) => !taken.has(at) && same(originals[at]!, replays[replayAt]!),
        );
        if (originalAt !== undefined) pair(replayAt, originalAt);
      }
    };
    matchBy((a, b) => a.tool_name === b.tool_name && sameJson(argsOf(a), argsOf(b)));
    matchBy((a, b) => a.tool_name === b.tool_name);
  }
  return partnerOf;
}

/**
 * The tool calls after each model call (by position), up to the next model call; those before
 * any model call under -1.
 */
function toolGroups(steps: readonly CallStep[]): Map<number, number[]> {
  const groups = new Map<number, number[]>([[-1, []]]);
  let model = -1;
  steps.forEach((step, at) => {
    if (step.kind === 'model_call') {
      model = at;
      groups.set(at, []);
    } else {
      groups.get(model)!.push(at);
    }
  });
  return groups;
}

interface RowPair {
  original: CallStep | null;
  replay: CallStep | null;
}

/**
 * The rows in the original's order; a call only the replay made comes right after the row of the
 * replay's call before it.
 */
function orderRows(
  originals: readonly CallStep[],
  replays: readonly CallStep[],
  partnerOf: ReadonlyMap<number, number>,
): RowPair[] {
  const replayOf = new Map<number, number>();
  for (const [replayAt, originalAt] of partnerOf) replayOf.set(originalAt, replayAt);
  const keyed: { anchor: number; sub: number; pair: RowPair }[] = originals.map((step, at) => {
    const replayAt = replayOf.get(at);
    return {
      anchor: at,
      sub: 0,
      pair: { original: step, replay: replayAt === undefined ? null : replays[replayAt]! },
    };
  });
  let anchor = -1;
  let sub = 0;
  replays.forEach((step, replayAt) => {
    const originalAt = partnerOf.get(replayAt);
    if (originalAt !== undefined) {
      anchor = originalAt;
      sub = 0;
      return;
    }
    sub += 1;
    keyed.push({ anchor, sub, pair: { original: null, replay: step } });
  });
  return keyed.sort((a, b) => a.anchor - b.anchor || a.sub - b.sub).map((entry) => entry.pair);
}

function diffRow(index: number, original: CallStep | null, replay: CallStep | null): ReplayDiffRow {
  const kind = (original ?? replay)!.kind;
  const differences: string[] = [];
  if (replay?.replay?.diverged) differences.push(replay.replay.diverged);
  if (!original) differences.push(REPLAY_DIFFERENCES.extra);
  else if (!replay) differences.push(REPLAY_DIFFERENCES.missing);
  else if (kind === 'model_call') differences.push(...modelCallDifferences(original, replay));
  else differences.push(...toolCallDifferences(original, replay));
  return {
    index,
    kind,
    original: original && summarize(original),
    replay: replay && summarize(replay),
    same: differences.length === 0,
    differences,
  };
}

function modelCallDifferences(original: CallStep, replay: CallStep): string[] {
  const differences: string[] = [];
  // A model call the runtime marked diverged says why already: its request differs.
  if (
    !replay.replay?.diverged &&
    original.request_digest !== undefined &&
    replay.request_digest !== undefined &&
    original.request_digest !== replay.request_digest
  )
    differences.push(REPLAY_DIFFERENCES.request);
  const before = original.reply?.text ?? '';
  const after = replay.reply?.text ?? '';
  if (before !== after) differences.push(`the reply differs: ${quote(before)} → ${quote(after)}`);
  const asked = askedCalls(original);
  const asking = askedCalls(replay);
  if (!sameJson(asked, asking)) {
    const names = (calls: { tool_name: string }[]) =>
      calls.length === 0 ? 'none' : calls.map((call) => call.tool_name).join(', ');
    const namesBefore = names(asked);
    const namesAfter = names(asking);
    differences.push(
      namesBefore === namesAfter
        ? `the tool calls asked differ in their arguments (${namesBefore})`
        : `the tool calls asked differ: ${namesBefore} → ${namesAfter}`,
    );
  }
  return differences;
}

function toolCallDifferences(original: CallStep, replay: CallStep): string[] {
  const differences: string[] = [];
  if (original.tool_name !== replay.tool_name)
    differences.push(`the tool differs: ${original.tool_name ?? '?'} → ${replay.tool_name ?? '?'}`);
  if (!sameJson(argsOf(original), argsOf(replay)))
    differences.push(
      `the arguments differ: ${cut(json(argsOf(original)))} → ${cut(json(argsOf(replay)))}`,
    );
  const before = original.outcome ?? 'not ended';
  const after = replay.outcome ?? 'not ended';
  if (before !== after) differences.push(`the outcome differs: ${before} → ${after}`);
  if (!sameJson(original.result ?? null, replay.result ?? null) || original.error !== replay.error)
    differences.push('the result differs');
  return differences;
}

function summarize(step: CallStep): StepSummary {
  if (step.kind === 'model_call') {
    return {
      step_id: step.step_id,
      ...(step.request_digest === undefined ? {} : { request_digest: step.request_digest }),
      text: step.reply?.text ?? '',
      tool_calls: askedCalls(step),
    };
  }
  return {
    step_id: step.step_id,
    tool_name: step.tool_name ?? '',
    args: argsOf(step),
    outcome: step.outcome ?? null,
    result: step.result ?? null,
    ...(step.error === undefined ? {} : { error: step.error }),
  };
}

/** The tool calls a model call's reply asked for: name and arguments. */
function askedCalls(step: CallStep): { tool_name: string; args: unknown }[] {
  return (step.reply?.tool_calls ?? []).map((call) => ({
    tool_name: call.tool_name,
    args: call.args ?? call.args_text ?? null,
  }));
}

function argsOf(step: CallStep): unknown {
  return step.args ?? null;
}

/** Whether two JSON values are equal, whatever the order of their objects' keys. */
function sameJson(a: unknown, b: unknown): boolean {
  return json(a) === json(b);
}

/** Canonical JSON: object keys sorted, undefined members left out. */
function json(value: unknown): string {
  const canonical = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(canonical);
    if (item && typeof item === 'object') {
      const entries = Object.entries(item as Record<string, unknown>)
        .filter(([, member]) => member !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries.map(([key, member]) => [key, canonical(member)]));
    }
    return item;
  };
  return JSON.stringify(canonical(value)) ?? 'null';
}

/** A value in a difference, cut to a line's worth. */
function cut(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat;
}

/** A text in a difference: quoted, cut to a line's worth. */
function quote(text: string): string {
  return JSON.stringify(cut(text));
}
