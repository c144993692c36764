import { z } from 'zod';

/**
 * Where a guardrail looks: what reaches the model (the run's `query`, every `tool_result`, MCP
 * results included) and what leaves it (the `tool_args` of each call, the final `answer`).
 */
export const GUARDRAIL_PLACES = ['query', 'tool_result', 'tool_args', 'answer'] as const;

/** A place a guardrail looks at. */
export type GuardrailPlace = (typeof GUARDRAIL_PLACES)[number];

/**
 * What a check does when it triggers: `block` ends the run `failed` with code `guardrail`;
 * `redact` replaces what matched and the run goes on; `flag` only reports it. Every hit is a
 * `guardrail_triggered` event, whatever the action.
 */
export const GUARDRAIL_ACTIONS = ['block', 'redact', 'flag'] as const;

/** What a check does when it triggers. */
export type GuardrailAction = (typeof GUARDRAIL_ACTIONS)[number];

/** The kinds of check, one per entry of `agent_config.guardrails`. */
export const GUARDRAIL_KINDS = ['max_chars', 'deny', 'injection', 'function'] as const;

/** The kind of a check. */
export type GuardrailKind = (typeof GUARDRAIL_KINDS)[number];

/**
 * Where each kind looks when `where` is left out: sizes and the injection screen guard what
 * tools bring in; deny patterns and functions look everywhere.
 */
export const DEFAULT_GUARDRAIL_PLACES: Readonly<Record<GuardrailKind, readonly GuardrailPlace[]>> =
  {
    max_chars: ['tool_result'],
    deny: GUARDRAIL_PLACES,
    injection: ['tool_result'],
    function: GUARDRAIL_PLACES,
  };

/** The most characters `max_chars` may name (about 100 MB of text). */
const MAX_CHARS_LIMIT = 100_000_000;

function regexProblem(source: string, ignoreCase: boolean): string | undefined {
  try {
    new RegExp(source, ignoreCase ? 'giu' : 'gu');
    return undefined;
  } catch (error) {
    return `must be a valid regular expression (${(error as Error).message})`;
  }
}

/**
 * One guardrail check of `agent_config.guardrails`. It has exactly one kind:
 *
 * - `max_chars: n`: the value (a string, or the JSON text of an object) is longer than `n`
 *   characters. `redact` truncates it to `n` characters with a note saying so (an object's
 *   JSON text becomes a string).
 * - `deny: [regex, …]`: a regular expression (JavaScript syntax, `u` flag; `ignore_case: true`
 *   adds `i`) matches a string of the value. `redact` replaces each match with
 *   `[redacted:<name>]`.
 * - `injection: true`: the prompt-injection screen finds instructions addressed to the model
 *   (see `src/agent/injection-screen.ts`). `redact` replaces each line carrying one with
 *   `[removed by guardrail <name>: possible prompt injection]`.
 * - `function: name`: a function registered in code under that name decides (a definition
 *   names it, as it names a tool; a function itself cannot be written in a file or sent over
 *   HTTP). `redact` replaces the value with what the function returns as `redacted`, or with
 *   `[redacted:<name>]`.
 *
 * `name` is how events, metrics and errors name the check; by default `<kind>[<index>]`, its
 * position in the list (`deny[0]`, `injection[2]`).
 */
export const guardrailCheckSchema = z
  .strictObject({
    name: z
      .string()
      .min(1, { error: 'must not be empty' })
      .max(64, { error: 'must be at most 64 characters' })
      .regex(/^[A-Za-z0-9_.-]+$/, { error: 'may contain only letters, digits, "_", "." and "-"' })
      .optional(),
    where: z
      .array(z.enum(GUARDRAIL_PLACES, { error: `must be one of ${GUARDRAIL_PLACES.join(', ')}` }))
      .min(1, { error: 'name at least one place' })
      .optional(),
    action: z.enum(GUARDRAIL_ACTIONS, { error: 'must be block, redact or flag' }),
    max_chars: z
      .number({ error: 'must be a number of characters' })
      .int({ error: 'must be a whole number' })
      .gt(0, { error: 'must be greater than 0' })
      .max(MAX_CHARS_LIMIT, { error: `must be at most ${MAX_CHARS_LIMIT}` })
      .optional(),
    deny: z
      .array(z.string().min(1, { error: 'must not be empty' }))
      .min(1, { error: 'name at least one pattern' })
      .optional(),
    /** For `deny`: the patterns ignore case. */
    ignore_case: z.boolean().optional(),
    injection: z.literal(true, { error: 'must be true' }).optional(),
    function: z
      .string()
      .min(1, { error: 'must not be empty' })
      .regex(/^[A-Za-z0-9_.-]+$/, { error: 'may contain only letters, digits, "_", "." and "-"' })
      .optional(),
    /** Refused with a clear message below: a function cannot be part of a stored definition. */
    check: z.unknown().optional(),
  })
  .superRefine((check, context) => {
    if (check.check !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['check'],
        message:
          'a function cannot be part of an agent definition (definitions are stored and sent as JSON): register it in code under a name (registerGuardrail) and name it here with function: <name>',
      });
      return;
    }
    const kinds = GUARDRAIL_KINDS.filter((kind) => check[kind] !== undefined);
    if (kinds.length !== 1) {
      context.addIssue({
        code: 'custom',
        path: kinds.length === 0 ? [] : [kinds[1]!],
        message:
          kinds.length === 0
            ? `must have one of ${GUARDRAIL_KINDS.join(', ')}`
            : `only one of ${GUARDRAIL_KINDS.join(', ')} may be set (got ${kinds.join(', ')})`,
      });
    }
    check.deny?.forEach((source, index) => {
      const problem = regexProblem(source, check.ignore_case === true);
      if (problem) context.addIssue({ code: 'custom', path: ['deny', index], message: problem });
    });
    if (check.ignore_case !== undefined && check.deny === undefined) {
      context.addIssue({ code: 'custom', path: ['ignore_case'], message: 'only applies to deny' });
    }
  });

/** `agent_config.guardrails`: the checks, each with a name no other check has. */
export const guardrailsSchema = z.array(guardrailCheckSchema).superRefine((checks, context) => {
  const seen = new Set<string>();
  checks.forEach((check, index) => {
    const name = guardrailNameOf(check, index);
    if (seen.has(name)) {
      context.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `duplicate guardrail name "${name}"`,
      });
    }
    seen.add(name);
  });
});

/** One check as a definition holds it. */
export type GuardrailCheck = z.output<typeof guardrailCheckSchema>;

/** The kind of a (valid) check. */
export function guardrailKindOf(check: GuardrailCheck): GuardrailKind {
  return GUARDRAIL_KINDS.find((kind) => check[kind] !== undefined) ?? 'function';
}

/** A check's stable name: the one given, or `<kind>[<index>]`. */
export function guardrailNameOf(check: GuardrailCheck, index: number): string {
  return check.name ?? `${guardrailKindOf(check)}[${index}]`;
}

/** Where a check looks: the places given, or its kind's default. */
export function guardrailPlacesOf(check: GuardrailCheck): readonly GuardrailPlace[] {
  return check.where ?? DEFAULT_GUARDRAIL_PLACES[guardrailKindOf(check)];
}

/** An agent's guardrails; none in a definition without them (or stored before they existed). */
export function guardrailsOf(definition: {
  agent_config: { guardrails?: readonly GuardrailCheck[] };
}): readonly GuardrailCheck[] {
  return definition.agent_config.guardrails ?? [];
}
