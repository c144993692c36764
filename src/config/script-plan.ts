import { didYouMean } from './did-you-mean.js';

/**
 * A placeholder in a scripted answer: `{{tool_name}}` or `{{tool_name.path.to.field}}`. Shared
 * with the scripted provider, so validation reads templates exactly as runs fill them.
 */
export const SCRIPT_TEMPLATE_PATTERN = /\{\{\s*([A-Za-z0-9_-]+)((?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;

/** The name `{{last}}` stands for: the latest output of any tool. */
const LATEST_OUTPUT_NAME = 'last';

/** One placeholder of an answer, as written and split into the tool and the field path. */
export interface ScriptTemplate {
  /** As written, braces included: `{{feed_read.items.0.title}}`. */
  text: string;
  /** The tool whose output it quotes, or `last`. */
  name: string;
  /** The field path into that output: `['items', '0', 'title']`; empty for the whole output. */
  fields: string[];
}

/** The placeholders of an answer, in order. */
function scriptTemplates(answer: string): ScriptTemplate[] {
  return [...answer.matchAll(SCRIPT_TEMPLATE_PATTERN)].map((match) => ({
    text: match[0],
    name: match[1] ?? '',
    fields: (match[2] ?? '').split('.').filter(Boolean),
  }));
}

/** A problem of a scripted plan, by path inside `model_config.script`. */
export interface ScriptPlanProblem {
  path: PropertyKey[];
  message: string;
}

/**
 * Why a `scripted` plan can never give a run its answer, or quotes a tool no earlier step calls.
 * Works on the plan as written (steps may be malformed: those are reported by the schema, and
 * read here in the way that reports least). A run's k-th model call plays step k: tool steps call
 * their tool, and the first other step ends the run with its answer (or its rehearsed `fail`);
 * past the last step, the last `answer` of the plan is given. So exactly one answer is reachable.
 */
export function scriptPlanProblems(script: unknown): ScriptPlanProblem[] {
  return [...argumentProblems(script), ...answerProblems(script)];
}

/**
 * Templates in a tool step's `args` that quote a tool no earlier step calls: they would be sent
 * to the tool as written.
 */
function argumentProblems(script: unknown): ScriptPlanProblem[] {
  if (!Array.isArray(script)) return [];
  const problems: ScriptPlanProblem[] = [];
  const calledBefore: string[] = [];
  script.forEach((step: unknown, index) => {
    if (typeof step !== 'object' || step === null) return;
    const { tool, args } = step as Record<string, unknown>;
    if (typeof tool !== 'string') return;
    for (const { path, text } of stringsOf(args, [])) {
      for (const template of scriptTemplates(text)) {
        const quotable =
          template.name === LATEST_OUTPUT_NAME
            ? calledBefore.length > 0
            : calledBefore.includes(template.name);
        if (quotable) continue;
        problems.push({
          path: [index, 'args', ...path],
          message: `${template.text} quotes the output of a tool no earlier step calls, so it would be sent as written${didYouMean(template.name, [...calledBefore, LATEST_OUTPUT_NAME])}`,
        });
      }
    }
    calledBefore.push(tool);
  });
  return problems;
}

/** Every string inside a value, with its path. */
function stringsOf(value: unknown, path: PropertyKey[]): { path: PropertyKey[]; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value))
    return value.flatMap((item, index) => stringsOf(item, [...path, index]));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => stringsOf(item, [...path, key]));
  }
  return [];
}

function answerProblems(script: unknown): ScriptPlanProblem[] {
  if (!Array.isArray(script) || script.length === 0) return [];
  const steps = script.map((step: unknown) =>
    typeof step === 'object' && step !== null ? (step as Record<string, unknown>) : {},
  );
  const calledBefore: string[] = [];
  // `fail` is played before `tool`, so a step with both fails the call.
  const ending = steps.findIndex(
    (step) => step.tool === undefined || (typeof step.fail === 'string' && step.fail !== ''),
  );
  for (const step of ending === -1 ? steps : steps.slice(0, ending)) {
    if (typeof step.tool === 'string') calledBefore.push(step.tool);
  }
  let answerIndex: number;
  if (ending !== -1) {
    const step = steps[ending] ?? {};
    // A rehearsed failure ends the run on purpose; an empty `fail` does not fail.
    if (typeof step.fail === 'string' && step.fail !== '') return [];
    if (step.answer === undefined || (typeof step.answer === 'string' && !step.answer.trim())) {
      return [
        {
          path: [ending],
          message:
            'this step ends every run without an answer (the run fails no_answer): give it an answer, or a tool to call',
        },
      ];
    }
    answerIndex = ending;
  } else {
    answerIndex = steps.findLastIndex((step) => step.answer !== undefined);
    const answer = steps[answerIndex]?.answer;
    if (answerIndex === -1 || (typeof answer === 'string' && !answer.trim())) {
      return [
        {
          path: [],
          message:
            'no step answers: every run ends after the tool steps without an answer (the run fails no_answer); add a last step with an answer',
        },
      ];
    }
  }
  const answer = steps[answerIndex]?.answer;
  if (typeof answer !== 'string') return [];
  return scriptTemplates(answer).flatMap((template) => {
    const quotable =
      template.name === LATEST_OUTPUT_NAME
        ? calledBefore.length > 0
        : calledBefore.includes(template.name);
    if (quotable) return [];
    const earlier =
      calledBefore.length === 0
        ? 'no earlier step calls a tool'
        : `earlier steps call ${[...new Set(calledBefore)].join(', ')}`;
    return [
      {
        path: [answerIndex, 'answer'],
        message: `${template.text} quotes the output of a tool no earlier step calls (${earlier}), so it would stay as written${didYouMean(template.name, [...calledBefore, LATEST_OUTPUT_NAME])}`,
      },
    ];
  });
}
