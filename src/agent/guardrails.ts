import {
  guardrailKindOf,
  guardrailNameOf,
  guardrailPlacesOf,
  guardrailsOf,
  type GuardrailAction,
  type GuardrailCheck,
  type GuardrailPlace,
} from '../config/guardrails.js';
import { errorMessage, NightshiftError } from '../errors.js';
import type { AgentEventSink } from './agent-events.js';
import { findInjections, removeInjections } from './injection-screen.js';

/** What a guardrail function decides: triggered or not, and (to redact) what the value becomes. */
export type GuardrailVerdict =
  | boolean
  | null
  | undefined
  | {
      triggered: boolean;
      /** With `action: redact`: the value to go on with. */ redacted?: string;
    };

/** What a guardrail function is told besides the text. */
export interface GuardrailFunctionContext {
  where: GuardrailPlace;
  agent_id: string;
  run_id: string;
  /** For tool arguments and results. */
  tool_name?: string;
  tool_call_id?: string;
  /** The value itself (the text is it, or its JSON text). */
  value: unknown;
}

/**
 * A check written in code, named by a definition's `function:` check. It gets the text (a
 * string, or the JSON text of an object) and decides; one that throws blocks (fails closed).
 */
export type GuardrailFunction = (
  text: string,
  context: GuardrailFunctionContext,
) => GuardrailVerdict | Promise<GuardrailVerdict>;

/** Which tool call a value belongs to. */
export interface GuardrailMeta {
  tool_name?: string;
  tool_call_id?: string;
}

/** One check that triggered: the `guardrail_triggered` event's payload (never what matched). */
export interface GuardrailHit extends GuardrailMeta {
  check: string;
  action: GuardrailAction;
  where: GuardrailPlace;
}

/** What screening a value gave: the value to go on with (redacted, perhaps) and the hits. */
export interface ScreenResult {
  value: unknown;
  hits: GuardrailHit[];
}

/** One check ready to run. */
interface CompiledCheck {
  name: string;
  action: GuardrailAction;
  places: ReadonlySet<GuardrailPlace>;
  /** Whether it triggers on `value`, and what `value` becomes when it is redacted. */
  run(
    value: unknown,
    context: GuardrailFunctionContext,
  ): Promise<{ triggered: false } | { triggered: true; redacted: unknown; why: string }>;
}

/** The hits a block error carries (those before it, and its own), for the run to report. */
const HITS = Symbol('nightshift.guardrail.hits');

/** True for the error a `block` check throws (code `guardrail`). */
export function isGuardrailBlock(value: unknown): value is NightshiftError {
  return NightshiftError.isInstance(value) && value.code === 'guardrail';
}

/** The hits a block error carries, its own last. */
export function hitsOfBlock(error: NightshiftError): GuardrailHit[] {
  return (error as unknown as { [HITS]?: GuardrailHit[] })[HITS] ?? [];
}

const PLACE_NAMES: Record<GuardrailPlace, (meta: GuardrailMeta) => string> = {
  query: () => 'the query',
  tool_result: (meta) => `the result of tool ${meta.tool_name ?? '(unknown)'}`,
  tool_args: (meta) => `the arguments of tool ${meta.tool_name ?? '(unknown)'}`,
  answer: () => 'the final answer',
};

/** A value as text: a string as it is, anything else as its JSON text. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  try {
    // A function or a symbol has no JSON text: nothing to check.
    return JSON.stringify(value) ?? '';
  } catch {
    // A cycle or a bigint: its strings are still checked one by one.
    return stringsOf(value).join('\n');
  }
}

/** Every string in a value (object keys excepted). */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, out);
  else if (value && typeof value === 'object') {
    for (const item of Object.values(value)) stringsOf(item, out);
  }
  return out;
}

/** The value with each of its strings replaced by `map` of it (a copy; the value is unchanged). */
function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]),
    );
  }
  return value;
}

function normalizeVerdict(verdict: GuardrailVerdict): { triggered: boolean; redacted?: string } {
  if (verdict === true) return { triggered: true };
  if (!verdict) return { triggered: false };
  return verdict;
}

function compile(
  check: GuardrailCheck,
  index: number,
  functions: ReadonlyMap<string, GuardrailFunction>,
): CompiledCheck {
  const name = guardrailNameOf(check, index);
  const kind = guardrailKindOf(check);
  const base = { name, action: check.action, places: new Set(guardrailPlacesOf(check)) };
  const marker = `[redacted:${name}]`;
  switch (kind) {
    case 'max_chars': {
      const limit = check.max_chars!;
      return {
        ...base,
        run: async (value) => {
          const text = textOf(value);
          if (text.length <= limit) return { triggered: false };
          return {
            triggered: true,
            why: `longer than ${limit} characters (${text.length})`,
            redacted: `${text.slice(0, limit)}… [truncated by guardrail ${name}: ${text.length} characters, the first ${limit} kept]`,
          };
        },
      };
    }
    case 'deny': {
      const flags = check.ignore_case ? 'giu' : 'gu';
      const patterns = check.deny!.map((source) => new RegExp(source, flags));
      return {
        ...base,
        run: async (value) => {
          const strings = stringsOf(value);
          const matched = patterns.findIndex((pattern) =>
            strings.some((text) => {
              pattern.lastIndex = 0;
              return pattern.test(text);
            }),
          );
          if (matched < 0) return { triggered: false };
          return {
            triggered: true,
            why: `matched deny pattern ${matched}`,
            redacted: mapStrings(value, (text) =>
              patterns.reduce((out, pattern) => out.replace(pattern, marker), text),
            ),
          };
        },
      };
    }
    case 'injection': {
      const replacement = `[removed by guardrail ${name}: possible prompt injection]`;
      return {
        ...base,
        run: async (value) => {
          const found = stringsOf(value).flatMap((text) => findInjections(text));
          if (found.length === 0) return { triggered: false };
          const shapes = [...new Set(found.map((finding) => finding.id))].join(', ');
          return {
            triggered: true,
            why: `possible prompt injection (${shapes})`,
            redacted: mapStrings(value, (text) => removeInjections(text, replacement)),
          };
        },
      };
    }
    case 'function': {
      const functionName = check.function!;
      return {
        ...base,
        run: async (value, context) => {
          const fn = functions.get(functionName);
          // A check that cannot run fails closed: what it guards does not go through unchecked.
          if (!fn)
            throw blockError(
              name,
              context,
              `guardrail function "${functionName}" is not registered`,
            );
          let verdict: { triggered: boolean; redacted?: string };
          try {
            verdict = normalizeVerdict(await fn(textOf(value), context));
          } catch (error) {
            throw blockError(
              name,
              context,
              `guardrail function "${functionName}" failed: ${errorMessage(error)}`,
            );
          }
          if (!verdict.triggered) return { triggered: false };
          return {
            triggered: true,
            why: `guardrail function "${functionName}" triggered`,
            redacted: verdict.redacted ?? marker,
          };
        },
      };
    }
  }
}

/** The error a blocking check ends the run with: it names the check and the place, never the match. */
function blockError(
  check: string,
  context: GuardrailFunctionContext,
  why: string,
  hits: GuardrailHit[] = [],
): NightshiftError {
  const meta: GuardrailMeta = {
    ...(context.tool_name === undefined ? {} : { tool_name: context.tool_name }),
    ...(context.tool_call_id === undefined ? {} : { tool_call_id: context.tool_call_id }),
  };
  const error = new NightshiftError(
    'guardrail',
    `guardrail ${check} blocked ${PLACE_NAMES[context.where](meta)}: ${why}`,
    { details: { check, where: context.where, ...meta } },
  );
  const own: GuardrailHit = { check, action: 'block', where: context.where, ...meta };
  Object.defineProperty(error, HITS, {
    value: [...hits, own],
    enumerable: false,
    configurable: true,
  });
  return error;
}

/** Options of {@link RunGuardrails}. */
export interface RunGuardrailsOptions {
  agentId: string;
  runId: string;
  /** The functions `function:` checks name, by name. */
  functions?: ReadonlyMap<string, GuardrailFunction> | Readonly<Record<string, GuardrailFunction>>;
}

/**
 * The guardrails of one run, built from its definition's `agent_config.guardrails`: each value
 * is screened by every check that looks at its place, in the order written, each seeing what the
 * ones before it left (redacted, perhaps).
 */
export class RunGuardrails {
  readonly #checks: CompiledCheck[];
  readonly #agentId: string;
  readonly #runId: string;

  constructor(checks: readonly GuardrailCheck[], options: RunGuardrailsOptions) {
    const functions =
      options.functions instanceof Map
        ? options.functions
        : new Map(Object.entries(options.functions ?? {}));
    this.#checks = checks.map((check, index) => compile(check, index, functions));
    this.#agentId = options.agentId;
    this.#runId = options.runId;
  }

  /** The guardrails of a definition (none when it has none). */
  static of(
    definition: { agent_id: string; agent_config: { guardrails?: readonly GuardrailCheck[] } },
    runId: string,
    functions?: RunGuardrailsOptions['functions'],
  ): RunGuardrails {
    return new RunGuardrails(guardrailsOf(definition), {
      agentId: definition.agent_id,
      runId,
      ...(functions ? { functions } : {}),
    });
  }

  /** Whether any check looks at this place. */
  applies(where: GuardrailPlace): boolean {
    return this.#checks.some((check) => check.places.has(where));
  }

  /**
   * Screens a value at a place: the value to go on with and the checks that triggered. A
   * `block` check throws a `guardrail` error (see {@link hitsOfBlock} for the hits before it).
   */
  async screen(
    where: GuardrailPlace,
    value: unknown,
    meta: GuardrailMeta = {},
  ): Promise<ScreenResult> {
    const hits: GuardrailHit[] = [];
    let current = value;
    const context: GuardrailFunctionContext = {
      where,
      agent_id: this.#agentId,
      run_id: this.#runId,
      ...meta,
      value,
    };
    for (const check of this.#checks) {
      if (!check.places.has(where)) continue;
      let outcome: Awaited<ReturnType<CompiledCheck['run']>>;
      try {
        outcome = await check.run(current, { ...context, value: current });
      } catch (error) {
        if (isGuardrailBlock(error)) {
          Object.defineProperty(error, HITS, {
            value: [...hits, ...hitsOfBlock(error)],
            configurable: true,
          });
        }
        throw error;
      }
      if (!outcome.triggered) continue;
      if (check.action === 'block') throw blockError(check.name, context, outcome.why, hits);
      hits.push({ check: check.name, action: check.action, where, ...meta });
      if (check.action === 'redact') current = outcome.redacted;
    }
    return { value: current, hits };
  }

  /** This run's screen: hits become events, and a block ends the run through `stop`. */
  forRun(emit: AgentEventSink, stop: (error: NightshiftError) => void): GuardrailScreen {
    const report = async (hits: readonly GuardrailHit[]) => {
      for (const hit of hits) await emit({ type: 'guardrail_triggered', payload: hit });
    };
    /** Publishes a block's hits, lets `onBlock` record what it leaves, and ends the run. */
    const blocked = async (
      error: unknown,
      onBlock?: (error: NightshiftError) => Promise<void>,
    ): Promise<never> => {
      if (!isGuardrailBlock(error)) throw error;
      await report(hitsOfBlock(error)).catch(() => undefined);
      await onBlock?.(error).catch(() => undefined);
      stop(error);
      throw error;
    };
    const screen: GuardrailScreen['screen'] = async (where, value, meta = {}, onBlock) => {
      if (!this.applies(where)) return value;
      const screened = await this.screen(where, value, meta).catch((error: unknown) =>
        blocked(error, onBlock),
      );
      await report(screened.hits);
      return screened.value;
    };
    return {
      applies: (where) => this.applies(where),
      screen,
      answer: async (text, structured) => {
        if (!this.applies('answer')) return { text, value: structured?.value };
        if (!structured) return { text: String(await screen('answer', text)), value: undefined };
        const screened = await this.screen('answer', structured.value).catch((error: unknown) =>
          blocked(error),
        );
        const { value, hits } = screened;
        const redacted = JSON.stringify(value);
        if (value !== structured.value && !structured.valid(redacted)) {
          // Redacting broke the schema the answer promised: the answer cannot go out.
          const by = hits.filter((hit) => hit.action === 'redact').map((hit) => hit.check);
          const error = blockError(
            by.join(', ') || 'guardrails',
            { where: 'answer', agent_id: this.#agentId, run_id: this.#runId, value },
            'the answer, redacted, is no longer valid against task_config.output_schema',
            hits.filter((hit) => hit.action !== 'redact'),
          );
          return blocked(error);
        }
        await report(hits);
        if (value === structured.value) return { text, value };
        return { text: redacted, value };
      },
    };
  }
}

/** How a run applies its guardrails (what `forRun` gives): ends the run itself on a block. */
export interface GuardrailScreen {
  applies(where: GuardrailPlace): boolean;
  /**
   * The value to go on with (redacted, perhaps), once its hits are published. On a block the
   * hits are published, `onBlock` runs (to record what the block leaves), the run is stopped,
   * and the error thrown.
   */
  screen(
    where: GuardrailPlace,
    value: unknown,
    meta?: GuardrailMeta,
    onBlock?: (error: NightshiftError) => Promise<void>,
  ): Promise<unknown>;
  /**
   * The final answer screened: the text, and for a structured answer its parsed value (screened
   * string by string, the text then its JSON). A redaction that leaves a structured answer
   * invalid against its schema blocks.
   */
  answer(
    text: string,
    structured?: { value: unknown; valid: (text: string) => boolean },
  ): Promise<{ text: string; value: unknown }>;
}

/**
 * The run's messages with its final answer as the guardrails let it out (`answer` in place of
 * `original` in the last assistant message), so the stored conversation keeps what was emitted.
 */
export function withAnswer<MESSAGE extends { role: string; content: unknown }>(
  messages: MESSAGE[],
  original: string,
  answer: string,
): MESSAGE[] {
  if (answer === original) return messages;
  const index = messages.findLastIndex((message) => message.role === 'assistant');
  const message = messages[index];
  if (!message) return messages;
  const content =
    typeof message.content === 'string'
      ? message.content.split(original).join(answer)
      : Array.isArray(message.content)
        ? (message.content as { type: string; text?: string }[]).map((part) =>
            part.type === 'text' && typeof part.text === 'string'
              ? { ...part, text: part.text.split(original).join(answer) }
              : part,
          )
        : message.content;
  return messages.map((item, at) => (at === index ? { ...item, content } : item));
}
