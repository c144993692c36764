import type { LanguageModelV3Middleware } from '@ai-sdk/provider';
import type { ModelMessage } from 'ai';
import { NightshiftError } from '../errors.js';
import {
  emptyUsage,
  type ReplayMode,
  type ResultCut,
  type RunStep,
  type StepReplay,
} from '../storage/contracts/index.js';
import { digest } from './canonical-digest.js';
import {
  JOURNAL_RESULT_CAP_CHARS,
  replayedResult,
  type ModelCallInProgress,
} from './run-journal.js';

/**
 * What a replay goes from: the original run's steps (the attempts of its outcome: the last one
 * and those it resumed), and where its replies and tool results come from.
 */
export interface ReplaySource {
  /** The run replayed. */
  run_id: string;
  mode: ReplayMode;
  steps: readonly RunStep[];
}

/** The error a replay of recorded replies ends with when it needs a reply the original never got. */
export function replayDivergedError(message: string): NightshiftError {
  return new NightshiftError('replay_diverged', message);
}

/**
 * The recorded calls of an original run, handed out as a replay asks for them: model calls in
 * order, tool calls matched by their id, else by name and arguments, else by name. Each
 * recorded call answers once.
 */
export class RunReplay {
  readonly mode: ReplayMode;
  readonly runId: string;
  readonly #modelCalls: RunStep[] = [];
  readonly #toolCalls: RunStep[] = [];
  readonly #used = new Set<RunStep>();
  readonly #history: ModelMessage[] | undefined;
  readonly #historyCut: ResultCut | undefined;

  constructor(source: ReplaySource) {
    this.mode = source.mode;
    this.runId = source.run_id;
    const latest = new Map<string, RunStep>();
    for (const step of source.steps) {
      if (step.kind === 'model_call' && step.state === 'completed' && step.reply) {
        this.#modelCalls.push(step);
      } else if (step.kind === 'tool_call' && step.tool_call_id) {
        // An idempotent call run again after a crash is recorded again: the latest record wins.
        latest.set(step.tool_call_id, step);
      }
    }
    this.#toolCalls = [...latest.values()];
    // The history the original's first model call was sent (fresh attempts record it).
    const first = source.steps.find((step) => step.kind === 'model_call');
    this.#history = first?.input_history as ModelMessage[] | undefined;
    this.#historyCut = first?.input_history_cut;
  }

  /** The conversation the original was sent before its query (empty when it had none). */
  history(): ModelMessage[] {
    return this.#history ?? [];
  }

  /** Set when the original's history was over the journal's cap: the replay runs without it. */
  historyCut(): ResultCut | undefined {
    return this.#historyCut;
  }

  /** How many model calls the original made. */
  get modelCallCount(): number {
    return this.#modelCalls.length;
  }

  /** The original's `index`-th model call (0-based), if it made one. */
  modelCall(index: number): RunStep | undefined {
    return this.#modelCalls[index];
  }

  /**
   * The original's call a replayed tool call is answered from: the same id (recorded replies
   * keep the ids), else an unused call of the same tool with the same arguments, else one of
   * the same tool. `diverged` says how it differs; no step when the original made no such call.
   */
  toolCall(call: { tool_call_id: string; tool_name: string; args: unknown }): {
    step: RunStep | undefined;
    diverged?: string;
  } {
    const argsDigest = digest(call.args);
    const unused = this.#toolCalls.filter((step) => !this.#used.has(step));
    const byId = unused.find((step) => step.tool_call_id === call.tool_call_id);
    const byArgs = unused.find(
      (step) => step.tool_name === call.tool_name && step.args_digest === argsDigest,
    );
    const byName = unused.find((step) => step.tool_name === call.tool_name);
    const step = (byId?.tool_name === call.tool_name ? byId : undefined) ?? byArgs ?? byName;
    if (!step) {
      return {
        step: undefined,
        diverged: `the original made no call of ${call.tool_name} left to answer this one`,
      };
    }
    this.#used.add(step);
    if (step.args_digest !== undefined && step.args_digest !== argsDigest) {
      return { step, diverged: `the arguments of ${call.tool_name} differ from the original's` };
    }
    return { step };
  }
}

/** What the model is told of a tool call a replay of recorded tools could not answer: it was not run. */
export function notRecordedResult(toolName: string, why: string): Record<string, string> {
  return {
    error: 'not_recorded',
    message: `this is a replay with recorded tool results, and ${why}: ${toolName} was not run (a replay never repeats a side effect).`,
  };
}

/**
 * The history a run's first model call records: whole, or, over the journal's cap, only how
 * long it was (a replay then runs without it, saying so).
 */
export function recordedHistory(
  history: readonly ModelMessage[],
): Pick<RunStep, 'input_history' | 'input_history_cut'> {
  if (history.length === 0) return {};
  const json = JSON.stringify(history);
  if (json.length <= JOURNAL_RESULT_CAP_CHARS) return { input_history: [...history] };
  return {
    input_history_cut: { cap_chars: JOURNAL_RESULT_CAP_CHARS, original_chars: json.length },
  };
}

/**
 * The language-model middleware of a replay of recorded replies: the request is not sent; the
 * original's reply at the same place answers it, and a request that differs from the one the
 * original sent is marked diverged at this step. A replay that needs more replies than the
 * original got ends `replay_diverged`. Sits inside the journal's middleware (a resumed replay
 * answers from its own journal first), which records the step with what this one marks.
 */
export function replayMiddleware(
  replay: RunReplay,
  current: () => ModelCallInProgress,
): LanguageModelV3Middleware {
  return {
    specificationVersion: 'v3',
    wrapGenerate: async ({ doGenerate }) => {
      const call = current();
      if (replay.mode.model === 'live') return doGenerate();
      const index = call.modelCallIndex ?? 0;
      const source = replay.modelCall(index);
      if (!source?.reply) {
        throw replayDivergedError(
          `the replay needs model call ${index + 1}, and the original run got ${replay.modelCallCount} repl${replay.modelCallCount === 1 ? 'y' : 'ies'}: it went another way from here`,
        );
      }
      const stepReplay: StepReplay = { source_step_id: source.step_id };
      if (
        source.request_digest !== undefined &&
        call.requestDigest !== undefined &&
        source.request_digest !== call.requestDigest
      ) {
        stepReplay.diverged =
          "the request differs from the original's (the system instruction, history, tools, tool results or settings changed)";
      }
      call.replayStep = stepReplay;
      // Recorded, not asked for: nothing is spent.
      return replayedResult({ step_id: source.step_id, reply: source.reply, usage: emptyUsage() });
    },
  };
}
