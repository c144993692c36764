import { z } from 'zod';

/** How long an approval waits for a person by default: a day. */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 86_400;

/** A tool name, or a pattern of them with `*` standing for any characters (`mcp_github_*`). */
const toolPatternSchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  .regex(/^[A-Za-z0-9_.*-]+$/, {
    error: 'must be a tool name, or a pattern with * (letters, digits, "_", ".", "-", "*")',
  });

/** A condition on one argument: the value it must equal, or `{ pattern }` its text must match. */
const argumentConditionSchema = z.union([
  z.strictObject({
    pattern: z.string().refine(isRegex, { error: 'must be a valid regular expression' }),
  }),
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
]);

/**
 * One approval rule: the tool calls a person must approve before they run — those of the named
 * tools (patterns allowed), and, with `when`, only those whose arguments match (each argument
 * path, dotted, equals the value or matches `{ pattern }`). Unanswered after `timeout` seconds,
 * the call is denied, or approved with `on_timeout: approve`.
 */
export const approvalRuleSchema = z.strictObject({
  tools: z.array(toolPatternSchema).min(1, { error: 'name at least one tool' }),
  when: z.record(z.string().min(1), argumentConditionSchema).optional(),
  timeout: z
    .number({ error: 'must be a number of seconds' })
    .gt(0, { error: 'must be greater than 0' })
    .max(30 * 86_400, { error: 'must be at most 2592000 seconds (30 days)' })
    .default(DEFAULT_APPROVAL_TIMEOUT_SECONDS),
  on_timeout: z.enum(['deny', 'approve'], { error: 'must be deny or approve' }).default('deny'),
});

/** An approval rule as a definition holds it (defaults filled in). */
export type ApprovalRule = z.output<typeof approvalRuleSchema>;

function isRegex(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}

/** Whether `name` is matched by a rule's tool pattern (`*` any characters, else exact). */
export function toolPatternMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 'u').test(name);
}

/** The value at a dotted path of the arguments (`table`, `target.channel`), if any. */
function valueAt(args: unknown, path: string): unknown {
  let value: unknown = args;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Whether a rule asks for a person before this call: its tool matches and so does every `when`. */
export function ruleMatches(rule: ApprovalRule, toolName: string, args: unknown): boolean {
  if (!rule.tools.some((pattern) => toolPatternMatches(pattern, toolName))) return false;
  for (const [path, condition] of Object.entries(rule.when ?? {})) {
    const value = valueAt(args, path);
    if (typeof condition === 'object' && condition !== null) {
      if (value === undefined) return false;
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      if (!new RegExp(condition.pattern, 'u').test(text)) return false;
    } else if (value !== condition) return false;
  }
  return true;
}

/** The first rule that asks for a person before this call, if any. */
export function approvalRuleFor(
  rules: readonly ApprovalRule[],
  toolName: string,
  args: unknown,
): ApprovalRule | undefined {
  return rules.find((rule) => ruleMatches(rule, toolName, args));
}

/** An agent's approval rules; none in a definition stored before approvals existed. */
export function approvalRulesOf(definition: {
  agent_config: { approvals?: readonly ApprovalRule[] };
}): readonly ApprovalRule[] {
  return definition.agent_config.approvals ?? [];
}
