import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3GenerateResult,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  SharedV3Warning,
} from '@ai-sdk/provider';
import type { ScriptStep } from '../../config/agent-definition.js';
import { SCRIPT_TEMPLATE_PATTERN } from '../../config/script-plan.js';

/** The code of the warning a scripted answer gives for a template it could not fill. */
export const TEMPLATE_UNRESOLVED = 'template_unresolved';

/**
 * The `scripted` provider: an offline model that follows a declared plan, for dry runs,
 * demos and tests. No LLM is involved: step k of the script answers the k-th model call of
 * a run (counted from the run's user message), so a tool step asks for that tool and an
 * answer step replies with its text, `{{tool_name}}` quoting that tool's latest output
 * (`{{tool_name.path.to.field}}` one field of it) and `{{last}}` the latest output of any tool;
 * the strings of a tool step's `args` are filled the same way.
 * A template naming nothing there stays as written, and the reply carries a warning saying so
 * (see {@link runWarningOf}): validation can refuse only a tool the plan never calls.
 */
export class ScriptedLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3';
  readonly provider = 'scripted';
  readonly modelId: string;
  readonly supportedUrls = {};
  readonly #script: readonly ScriptStep[];

  constructor(script: readonly ScriptStep[], modelId = 'scripted') {
    this.#script = script;
    this.modelId = modelId;
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const position = turnPosition(options.prompt);
    const step = this.#script[Math.min(position, this.#script.length - 1)] ?? { answer: '' };
    if (step.delay) await abortableDelay(step.delay * 1000, options.abortSignal);
    if (step.fail) throw new Error(step.fail);
    const outputs = toolOutputs(options.prompt);
    const content: LanguageModelV3Content[] = [];
    const warnings: SharedV3Warning[] = [];
    const pastEnd = position >= this.#script.length;
    if (step.tool && !pastEnd) {
      const unresolved: string[] = [];
      content.push({
        type: 'tool-call',
        toolCallId: `scripted-${position}-${step.tool}`,
        toolName: step.tool,
        input: JSON.stringify(fillArguments(step.args ?? {}, outputs, unresolved)),
      });
      for (const problem of unresolved) {
        warnings.push({ type: 'other', message: `${TEMPLATE_UNRESOLVED}: ${problem}` });
      }
    } else {
      const lastAnswer = [...this.#script]
        .reverse()
        .find((candidate) => candidate.answer !== undefined);
      const text = (pastEnd ? lastAnswer?.answer : step.answer) ?? '';
      const filled = fillTemplate(text, outputs);
      content.push({ type: 'text', text: filled.text });
      for (const problem of filled.unresolved) {
        warnings.push({ type: 'other', message: `${TEMPLATE_UNRESOLVED}: ${problem}` });
      }
    }
    const inputTokens = step.usage?.input_tokens ?? estimateTokens(JSON.stringify(options.prompt));
    const outputTokens = step.usage?.output_tokens ?? estimateTokens(JSON.stringify(content));
    return {
      content,
      finishReason: {
        unified: content[0]?.type === 'tool-call' ? 'tool-calls' : 'stop',
        raw: undefined,
      },
      usage: {
        inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
        outputTokens: { total: outputTokens, text: outputTokens, reasoning: 0 },
      },
      warnings,
    };
  }

  async doStream(options: LanguageModelV3CallOptions) {
    const result = await this.doGenerate(options);
    const parts: LanguageModelV3StreamPart[] = [
      { type: 'stream-start', warnings: result.warnings },
    ];
    result.content.forEach((part, index) => {
      if (part.type === 'text') {
        parts.push({ type: 'text-start', id: String(index) });
        parts.push({ type: 'text-delta', id: String(index), delta: part.text });
        parts.push({ type: 'text-end', id: String(index) });
      } else {
        parts.push(part as LanguageModelV3StreamPart);
      }
    });
    parts.push({ type: 'finish', finishReason: result.finishReason, usage: result.usage });
    return {
      stream: new ReadableStream<LanguageModelV3StreamPart>({
        start(controller) {
          for (const part of parts) controller.enqueue(part);
          controller.close();
        },
      }),
    };
  }
}

/** Model calls already answered in this run: assistant messages after the last user message. */
function turnPosition(prompt: LanguageModelV3Prompt): number {
  let position = 0;
  for (const message of prompt) {
    if (message.role === 'user') position = 0;
    else if (message.role === 'assistant') position += 1;
  }
  return position;
}

/** Tool outputs of the current turn, by tool name (latest wins), plus `last`. */
function toolOutputs(prompt: LanguageModelV3Prompt): Map<string, unknown> {
  const outputs = new Map<string, unknown>();
  for (const message of prompt) {
    if (message.role === 'user') outputs.clear();
    if (message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type !== 'tool-result') continue;
      const output = part.output;
      const value = 'value' in output ? output.value : output;
      outputs.set(part.toolName, value);
      outputs.set('last', value);
    }
  }
  return outputs;
}

/**
 * The answer with each template replaced by what it quotes; those that quote nothing stay as
 * written, and `unresolved` says why for each.
 */
function fillTemplate(
  text: string,
  outputs: Map<string, unknown>,
): { text: string; unresolved: string[] } {
  const unresolved: string[] = [];
  const filled = text.replace(SCRIPT_TEMPLATE_PATTERN, (whole, name: string, path: string) => {
    if (!outputs.has(name)) {
      unresolved.push(
        `${whole} stayed as written: ${name === 'last' ? 'no tool' : `the tool ${name}`} has given no output in this run`,
      );
      return whole;
    }
    let value: unknown = outputs.get(name);
    const reached: string[] = [];
    for (const key of path.split('.').filter(Boolean)) {
      value =
        typeof value === 'object' && value !== null
          ? (value as Record<string, unknown>)[key]
          : undefined;
      if (value === undefined) {
        const parent =
          reached.length === 0 ? `the output of ${name}` : `${name}.${reached.join('.')}`;
        unresolved.push(`${whole} stayed as written: ${parent} has no field "${key}"`);
        return whole;
      }
      reached.push(key);
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
  return { text: filled, unresolved };
}

/**
 * A step's arguments with the templates in their strings filled as an answer's are, so a tool
 * step can pass what earlier tools gave (a digest of a feed to `file_write`, a check's results
 * to `notify`); `unresolved` collects why a template stayed as written.
 */
function fillArguments(
  value: unknown,
  outputs: Map<string, unknown>,
  unresolved: string[],
): unknown {
  if (typeof value === 'string') {
    const filled = fillTemplate(value, outputs);
    unresolved.push(...filled.unresolved);
    return filled.text;
  }
  if (Array.isArray(value)) return value.map((item) => fillArguments(item, outputs, unresolved));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, fillArguments(item, outputs, unresolved)]),
    );
  }
  return value;
}

/**
 * A model's warning as the payload of a `run_warning` event: a scripted template's keeps its
 * code (`template_unresolved`), any other provider's reads `model_warning`.
 */
export function runWarningOf(warning: SharedV3Warning): { code: string; message: string } {
  if (warning.type === 'other') {
    const prefix = `${TEMPLATE_UNRESOLVED}: `;
    return warning.message.startsWith(prefix)
      ? { code: TEMPLATE_UNRESOLVED, message: warning.message.slice(prefix.length) }
      : { code: 'model_warning', message: warning.message };
  }
  const details = warning.details === undefined ? '' : `: ${warning.details}`;
  return { code: 'model_warning', message: `${warning.type} feature ${warning.feature}${details}` };
}

/** A rough token count (four characters a token), for models that report none. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function abortableDelay(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
