import type {
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3Middleware,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';
import {
  addUsage,
  emptyUsage,
  type ModelReply,
  type RecordedToolCall,
  type ResultCut,
  type RunStep,
  type StepReplay,
  type Usage,
} from '../storage/contracts/index.js';
import { requestDigest } from './canonical-digest.js';
import { costMicroUsd, microUsdToUsd, type ModelPricing } from '../config/pricing.js';
import { readReportedUsage } from './reported-usage.js';

/** The most characters of JSON one tool result keeps in the journal; a longer one is cut, saying so. */
export const JOURNAL_RESULT_CAP_CHARS = 32_000;

/** A completed model call of the journal, answered again without a request. */
export interface RecordedModelCall {
  step_id: string;
  reply: ModelReply;
  usage: Usage;
}

/**
 * What a resumed run goes on from: the steps of the attempts it continues (see `resumeChain`).
 * Completed model calls are answered from their replies, in order; a tool call is looked up by
 * its `tool_call_id` (the latest record of it wins: an idempotent call run again is recorded again).
 */
export class RunJournal {
  readonly modelCalls: RecordedModelCall[];
  readonly #toolSteps = new Map<string, RunStep>();

  constructor(steps: readonly RunStep[]) {
    this.modelCalls = [];
    for (const step of steps) {
      if (step.kind === 'model_call' && step.state === 'completed' && step.reply) {
        this.modelCalls.push({
          step_id: step.step_id,
          reply: step.reply,
          usage: step.usage ?? emptyUsage(),
        });
      } else if (step.kind === 'tool_call' && step.tool_call_id) {
        this.#toolSteps.set(step.tool_call_id, step);
      }
    }
  }

  /** The recorded step of a tool call, if it was reached before. */
  toolCall(toolCallId: string): RunStep | undefined {
    return this.#toolSteps.get(toolCallId);
  }

  /** The usage of the model calls answered from the journal (already counted by the run). */
  replayedUsage(): Usage {
    return this.modelCalls.reduce((sum, call) => addUsage(sum, call.usage), emptyUsage());
  }
}

/** True when a recorded tool call may have taken effect without its outcome being recorded. */
export function outcomeUnknown(step: RunStep): boolean {
  return step.state === 'started' || step.outcome === 'cancelled';
}

/** The tool result a model receives for a call a resumed run would not run again. */
export function unknownOutcomeResult(toolName: string): Record<string, string> {
  return {
    error: 'unknown_outcome',
    message:
      `the process running this call of ${toolName} stopped before its result was recorded: it ` +
      'may or may not have taken effect, and it was not run again because the tool is not ' +
      'idempotent. Check whether it took effect (read the state it changes) before calling it again.',
  };
}

/** A tool's result as the journal keeps it: whole, or its JSON cut to the cap with a note of how long it was. */
export function journalResult(result: unknown): { result: unknown; result_cut?: ResultCut } {
  const json = JSON.stringify(result) ?? 'null';
  if (json.length <= JOURNAL_RESULT_CAP_CHARS) return { result };
  return {
    result: json.slice(0, JOURNAL_RESULT_CAP_CHARS),
    result_cut: { cap_chars: JOURNAL_RESULT_CAP_CHARS, original_chars: json.length },
  };
}

/** What a model call answered, as the journal records it. */
export function replyOf(
  content: readonly LanguageModelV3Content[],
  finishReason: LanguageModelV3FinishReason,
): ModelReply {
  let text = '';
  const toolCalls: RecordedToolCall[] = [];
  for (const part of content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'tool-call') {
      const call: RecordedToolCall = { tool_call_id: part.toolCallId, tool_name: part.toolName };
      try {
        call.args = JSON.parse(part.input) as unknown;
      } catch {
        call.args_text = part.input;
      }
      toolCalls.push(call);
    }
  }
  return { text, tool_calls: toolCalls, finish_reason: finishReason.unified };
}

/** A recorded reply as the model's answer again (no request is sent). */
export function replayedResult(call: RecordedModelCall): LanguageModelV3GenerateResult {
  const content: LanguageModelV3Content[] = [];
  if (call.reply.text !== '') content.push({ type: 'text', text: call.reply.text });
  for (const toolCall of call.reply.tool_calls) {
    content.push({
      type: 'tool-call',
      toolCallId: toolCall.tool_call_id,
      toolName: toolCall.tool_name,
      input: toolCall.args_text ?? JSON.stringify(toolCall.args ?? {}),
    });
  }
  const unified = call.reply.finish_reason as LanguageModelV3FinishReason['unified'];
  return {
    content,
    finishReason: { unified, raw: call.reply.finish_reason },
    usage: {
      inputTokens: {
        total: call.usage.input_tokens,
        noCache: undefined,
        cacheRead: undefined,
        cacheWrite: undefined,
      },
      outputTokens: { total: call.usage.output_tokens, text: undefined, reasoning: undefined },
    },
    warnings: [],
  };
}

/**
 * One model call's usage from what the provider reported (clamped, see `readReportedUsage`),
 * with its cost when the model has a price.
 */
export function usageOf(
  reported: LanguageModelV3Usage,
  pricing?: ModelPricing,
): { usage: Usage; problems: string[] } {
  const input = reported.inputTokens.total;
  const output = reported.outputTokens.total;
  const read = readReportedUsage({
    inputTokens: input,
    outputTokens: output,
    totalTokens:
      input === undefined && output === undefined ? undefined : (input ?? 0) + (output ?? 0),
    cachedInputTokens: reported.inputTokens.cacheRead,
  });
  if (!pricing) return read;
  const cost = microUsdToUsd(costMicroUsd(read.usage, pricing));
  return { usage: { ...read.usage, cost_usd: cost }, problems: read.problems };
}

/** The model call in progress, as the run's step hooks and the journal middleware share it. */
export interface ModelCallInProgress {
  /** Set when the call is answered from the journal. */
  replay: RecordedModelCall | undefined;
  /** The live call's step, recorded `started` before the request. */
  stepId: string | undefined;
  /** The live call's usage and what was corrected in it, once the reply arrived. */
  usage?: Usage;
  problems?: string[];
  /** The call's place among the run's model calls (0-based, journal answers included). */
  modelCallIndex?: number;
  /** The digest of the request as it would be sent (see `requestDigest`). */
  requestDigest?: string;
  /** A replay's call: the original's step it was answered from, and how it diverged. */
  replayStep?: StepReplay;
}

/** Where the middleware records a live reply: before the SDK sees it, so before any tool of it runs. */
export type ReplyRecorder = (
  call: ModelCallInProgress,
  reply: ModelReply,
  usage: Usage,
) => Promise<void>;

/**
 * The language-model middleware of the journal: a call the journal answers returns its recorded
 * reply without a request; a live call's reply and usage are recorded as soon as they arrive,
 * before the AI SDK runs any tool the reply asks for (its `onStepFinish` comes after the tools).
 */
export function journalMiddleware(
  current: () => ModelCallInProgress,
  record: ReplyRecorder,
  pricing?: ModelPricing,
): LanguageModelV3Middleware {
  return {
    specificationVersion: 'v3',
    wrapGenerate: async ({ doGenerate, params }) => {
      const call = current();
      if (call.replay) return replayedResult(call.replay);
      call.requestDigest = requestDigest(params);
      const result = await doGenerate();
      const { usage, problems } = usageOf(result.usage, pricing);
      call.usage = usage;
      call.problems = problems;
      await record(call, replyOf(result.content, result.finishReason), usage);
      return result;
    },
  };
}
