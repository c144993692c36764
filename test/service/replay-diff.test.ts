import { describe, expect, it } from 'vitest';
import { diffReplay, REPLAY_DIFFERENCES } from '../../src/service/replay/replay-diff.js';
import type { RunRecord, RunStep } from '../../src/storage/contracts/index.js';
import { runRecord } from '../storage/contracts/fixtures.js';

// The diff of a replay against its original, on synthetic journals: a model call asking for
// disk_usage, the tool call, and a model call answering.

const AT = '2030-01-01T00:00:00.000Z';

function run(runId: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return runRecord('alpha', AT, {
    run_id: runId,
    status: 'completed',
    output: 'The disk is 42% full.',
    ...overrides,
  });
}

const replayRun = (overrides: Partial<RunRecord> = {}) =>
  run('replay-1', {
    trigger: 'replay',
    replay_of: 'original',
    replay_mode: { model: 'recorded', tools: 'recorded' },
    ...overrides,
  });

function modelCall(
  runId: string,
  index: number,
  text: string,
  toolCalls: { tool_name: string; args: unknown }[] = [],
  overrides: Partial<RunStep> = {},
): RunStep {
  return {
    run_id: runId,
    step_id: `1.${index}`,
    attempt: 1,
    index,
    kind: 'model_call',
    state: 'completed',
    started_at: AT,
    ended_at: AT,
    request_digest: `digest-${index}`,
    reply: {
      text,
      tool_calls: toolCalls.map((call, at) => ({ tool_call_id: `call-${index}-${at}`, ...call })),
      finish_reason: toolCalls.length > 0 ? 'tool-calls' : 'stop',
    },
    ...overrides,
  };
}

function toolCall(
  runId: string,
  index: number,
  toolName: string,
  args: unknown,
  result: unknown,
  overrides: Partial<RunStep> = {},
): RunStep {
  return {
    run_id: runId,
    step_id: `1.${index}`,
    attempt: 1,
    index,
    kind: 'tool_call',
    state: 'completed',
    started_at: AT,
    ended_at: AT,
    tool_name: toolName,
    tool_call_id: `call-${index}`,
    args,
    outcome: 'success',
    result,
    ...overrides,
  };
}

const DISK = { tool_name: 'disk_usage', args: { path: '/' } };

/** The original's journal, or a replay's answered from it (each step naming its source). */
function journal(runId: string, fromOriginal = false): RunStep[] {
  const source = (index: number) =>
    fromOriginal ? { replay: { source_step_id: `1.${index}` } } : {};
  return [
    modelCall(runId, 0, 'Checking.', [DISK], source(0)),
    toolCall(runId, 1, 'disk_usage', { path: '/' }, { used: 0.42 }, source(1)),
    modelCall(runId, 2, 'The disk is 42% full.', [], source(2)),
  ];
}

const original = () => ({ run: run('original'), steps: journal('original') });

describe('diffReplay', () => {
  it('finds no divergence between identical runs, and pairs each call with its source', () => {
    const diff = diffReplay(original(), { run: replayRun(), steps: journal('replay-1', true) });
    expect(diff).toMatchObject({
      original_run_id: 'original',
      replay_run_id: 'replay-1',
      mode: { model: 'recorded', tools: 'recorded' },
      status: { original: 'completed', replay: 'completed' },
      first_divergence: null,
      answer: { original: 'The disk is 42% full.', replay: 'The disk is 42% full.', same: true },
    });
    expect(diff.steps.map((row) => [row.index, row.kind, row.same, row.differences])).toEqual([
      [0, 'model_call', true, []],
      [1, 'tool_call', true, []],
      [2, 'model_call', true, []],
    ]);
    expect(diff.steps[0]!.original).toEqual({
      step_id: '1.0',
      request_digest: 'digest-0',
      text: 'Checking.',
      tool_calls: [DISK],
    });
    expect(diff.steps[1]!.replay).toEqual({
      step_id: '1.1',
      tool_name: 'disk_usage',
      args: { path: '/' },
      outcome: 'success',
      result: { used: 0.42 },
    });
  });

  it('pairs in order when the replay names no source, and ignores resume markers', () => {
    const steps = journal('replay-1');
    const resume: RunStep = {
      run_id: 'replay-1',
      step_id: '2.3',
      attempt: 2,
      index: 3,
      kind: 'resume',
      state: 'completed',
      started_at: AT,
      ended_at: AT,
      resumed_from: '1.2',
    };
    const diff = diffReplay(original(), { run: replayRun(), steps: [...steps, resume] });
    expect(diff.first_divergence).toBeNull();
    expect(diff.steps).toHaveLength(3);
  });

  it('reports a changed request at the first model call as the first divergence, index 0', () => {
    const steps = journal('replay-1', true);
    steps[0] = {
      ...steps[0]!,
      request_digest: 'other',
      replay: { source_step_id: '1.0', diverged: 'the system instruction differs' },
    };
    const diff = diffReplay(original(), { run: replayRun(), steps });
    expect(diff.first_divergence).toEqual({
      index: 0,
      step_id: '1.0',
      reason: 'the system instruction differs',
    });
    // The runtime's reason stands for the digests: they are not said to differ again.
    expect(diff.steps[0]!.differences).toEqual(['the system instruction differs']);
    expect(diff.steps.slice(1).every((row) => row.same)).toBe(true);
  });

  it('says so when only the digests differ (no reason recorded)', () => {
    const steps = journal('replay-1');
    steps[0] = { ...steps[0]!, request_digest: 'other' };
    const diff = diffReplay(original(), { run: replayRun(), steps });
    expect(diff.first_divergence).toEqual({
      index: 0,
      step_id: '1.0',
      reason: REPLAY_DIFFERENCES.request,
    });
  });

  it('shows a tool call the replay did not make as a row without a replay side', () => {
    const steps = [
      modelCall('replay-1', 0, 'The disk is fine, I think.', []),
      // The live model answered at once, without asking for the tool.
    ];
    const diff = diffReplay(original(), {
      run: replayRun({
        output: 'The disk is fine, I think.',
        replay_mode: { model: 'live', tools: 'recorded' },
      }),
      steps,
    });
    expect(diff.mode).toEqual({ model: 'live', tools: 'recorded' });
    expect(diff.steps.map((row) => [row.kind, row.same])).toEqual([
      ['model_call', false],
      ['tool_call', false],
      ['model_call', false],
    ]);
    expect(diff.steps[0]!.differences).toEqual([
      'the reply differs: "Checking." → "The disk is fine, I think."',
      'the tool calls asked differ: disk_usage → none',
    ]);
    expect(diff.steps[1]).toMatchObject({
      original: { step_id: '1.1', tool_name: 'disk_usage' },
      replay: null,
      differences: [REPLAY_DIFFERENCES.missing],
    });
    expect(diff.steps[2]).toMatchObject({
      replay: null,
      differences: [REPLAY_DIFFERENCES.missing],
    });
    expect(diff.first_divergence).toMatchObject({ index: 0, step_id: '1.0' });
    expect(diff.answer).toEqual({
      original: 'The disk is 42% full.',
      replay: 'The disk is fine, I think.',
      same: false,
    });
  });

  it('shows an extra tool call of the replay right after the call before it', () => {
    const memory = { tool_name: 'memory_usage', args: {} };
    const steps = [
      modelCall('replay-1', 0, 'Checking.', [DISK, memory]),
      toolCall('replay-1', 1, 'disk_usage', { path: '/' }, { used: 0.42 }),
      toolCall('replay-1', 2, 'memory_usage', {}, { used: 0.1 }),
      modelCall('replay-1', 3, 'The disk is 42% full.', []),
    ];
    const diff = diffReplay(original(), { run: replayRun(), steps });
    expect(diff.steps.map((row) => [row.index, row.kind, row.same])).toEqual([
      [0, 'model_call', false],
      [1, 'tool_call', true],
      [2, 'tool_call', false],
      [3, 'model_call', false],
    ]);
    // Its history has the extra call's result: another request, the same reply.
    expect(diff.steps[3]!.differences).toEqual([REPLAY_DIFFERENCES.request]);
    expect(diff.steps[0]!.differences).toEqual([
      'the tool calls asked differ: disk_usage → disk_usage, memory_usage',
    ]);
    expect(diff.steps[2]).toMatchObject({
      original: null,
      replay: { step_id: '1.2', tool_name: 'memory_usage' },
      differences: [REPLAY_DIFFERENCES.extra],
    });
    expect(diff.first_divergence).toMatchObject({ index: 0 });
  });

  it('pairs a tool call by its name and arguments, not its place, when the replay asks in another order', () => {
    const memory = { tool_name: 'memory_usage', args: {} };
    const originalSteps = [
      modelCall('original', 0, 'Checking.', [DISK, memory]),
      toolCall('original', 1, 'disk_usage', { path: '/' }, { used: 0.42 }),
      toolCall('original', 2, 'memory_usage', {}, { used: 0.1 }),
    ];
    const steps = [
      modelCall('replay-1', 0, 'Checking.', [memory, DISK]),
      toolCall('replay-1', 1, 'memory_usage', {}, { used: 0.1 }),
      toolCall('replay-1', 2, 'disk_usage', { path: '/' }, { used: 0.42 }),
    ];
    const diff = diffReplay(
      { run: run('original'), steps: originalSteps },
      { run: replayRun(), steps },
    );
    expect(diff.steps.map((row) => [row.kind, row.same])).toEqual([
      ['model_call', false],
      ['tool_call', true],
      ['tool_call', true],
    ]);
  });

  it('names what differs in a tool call: its arguments, its outcome and its result', () => {
    const steps = journal('replay-1', true);
    steps[1] = toolCall('replay-1', 1, 'disk_usage', { path: '/var' }, undefined, {
      outcome: 'error',
      error: 'no such mount',
      replay: { source_step_id: '1.1' },
    });
    const diff = diffReplay(original(), { run: replayRun(), steps });
    expect(diff.steps[1]!.differences).toEqual([
      'the arguments differ: {"path":"/"} → {"path":"/var"}',
      'the outcome differs: success → error',
      'the result differs',
    ]);
    expect(diff.first_divergence).toEqual({
      index: 1,
      step_id: '1.1',
      reason: 'the arguments differ: {"path":"/"} → {"path":"/var"}',
    });
  });

  it('reports a changed answer at the last model call, and in the answers', () => {
    const steps = journal('replay-1', true);
    steps[2] = modelCall('replay-1', 2, 'The disk is nearly half full.', [], {
      replay: { source_step_id: '1.2' },
    });
    const diff = diffReplay(original(), {
      run: replayRun({ output: 'The disk is nearly half full.', status: 'completed' }),
      steps,
    });
    expect(diff.first_divergence).toEqual({
      index: 2,
      step_id: '1.2',
      reason: 'the reply differs: "The disk is 42% full." → "The disk is nearly half full."',
    });
    expect(diff.answer).toEqual({
      original: 'The disk is 42% full.',
      replay: 'The disk is nearly half full.',
      same: false,
    });
  });

  it('keeps argument objects equal whatever the order of their keys', () => {
    const originalSteps = [toolCall('original', 0, 'query', { a: 1, b: [1, { c: 2, d: 3 }] }, 1)];
    const steps = [toolCall('replay-1', 0, 'query', { b: [1, { d: 3, c: 2 }], a: 1 }, 1)];
    const diff = diffReplay(
      { run: run('original'), steps: originalSteps },
      { run: replayRun(), steps },
    );
    expect(diff.first_divergence).toBeNull();
    expect(diff.steps).toHaveLength(1);
  });
});
