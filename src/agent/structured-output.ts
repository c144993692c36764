import type { LanguageModelV3 } from '@ai-sdk/provider';
import { jsonSchema, Output, type ModelMessage } from 'ai';
import { z } from 'zod';
import type { JsonSchemaObject } from '../config/output-schema.js';

/** How a run's final answer is checked against `task_config.output_schema`. */
export interface StructuredOutput {
  readonly schema: JsonSchemaObject;
  /** The answer's problems: empty when it is JSON valid against the schema. */
  check(text: string): CheckedAnswer;
}

/** An answer read against the schema: its value, or what is wrong with it (`path: message`). */
export type CheckedAnswer = { valid: true; value: unknown } | { valid: false; problems: string[] };

/** Providers whose models take a JSON Schema for their answer (`responseFormat`). */
const NATIVE_PROVIDERS = ['openai.', 'anthropic.', 'google.'];

/** The most validation problems one repair request or error message lists. */
const MAX_LISTED_PROBLEMS = 20;

/** A JSON answer inside a Markdown code fence, as models often write it when only prompted. */
const FENCED = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/;

/**
 * Compiles `schema` into the check of a run's answers (zod 4's `z.fromJSONSchema` validates).
 * Throws for a schema zod cannot compile (definition validation refuses those first: see
 * `outputSchemaSchema`).
 */
export function structuredOutput(schema: JsonSchemaObject): StructuredOutput {
  const validator = z.fromJSONSchema(schema);
  return {
    schema,
    check(text) {
      const trimmed = text.trim();
      const source = FENCED.exec(trimmed)?.[1] ?? trimmed;
      let value: unknown;
      try {
        value = JSON.parse(source) as unknown;
      } catch (error) {
        return { valid: false, problems: [`(answer): is not JSON (${(error as Error).message})`] };
      }
      const parsed = validator.safeParse(value);
      if (parsed.success) return { valid: true, value };
      return { valid: false, problems: parsed.error.issues.map(describeIssue) };
    },
  };
}

/** One issue as `path: message`, the path in JSON Pointer-like dots (`items.1.count`). */
function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
  return `${path}: ${issue.message}`;
}

/** The problems as a list for a message, at most {@link MAX_LISTED_PROBLEMS} of them. */
export function listProblems(problems: readonly string[]): string {
  const shown = problems.slice(0, MAX_LISTED_PROBLEMS);
  const more = problems.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/** True when the model's provider takes the schema natively (AI SDK `Output.object`). */
export function supportsNativeOutput(model: LanguageModelV3): boolean {
  return NATIVE_PROVIDERS.some((prefix) => model.provider.startsWith(prefix));
}

/**
 * The `output` setting of `generateText` for a provider with native structured output: the
 * schema goes as the response format of `Output.object`. The answer is parsed and validated by
 * the run (`StructuredOutput.check`), not by the SDK, so an invalid one can be repaired.
 */
export function nativeOutput(schema: JsonSchemaObject) {
  const object = Output.object({
    schema: jsonSchema(schema as Parameters<typeof jsonSchema>[0]),
    name: 'answer',
  });
  return {
    ...object,
    parseCompleteOutput: async ({ text }: { text: string }) => text,
  };
}

/** What the system instruction adds for a run with an output schema (every provider). */
export function outputInstruction(schema: JsonSchemaObject): string {
  return (
    'When you give your final answer, answer with JSON only (no other text, no code fence) ' +
    `that is valid against this JSON Schema:\n${JSON.stringify(schema)}`
  );
}

/** The user message of a repair turn: what was wrong, and the request for a corrected answer. */
export function repairMessage(problems: readonly string[]): ModelMessage {
  return {
    role: 'user',
    content:
      'Your answer is not valid against the required JSON Schema: ' +
      `${listProblems(problems)}. Answer again with the corrected JSON only.`,
  };
}
