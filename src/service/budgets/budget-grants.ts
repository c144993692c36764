import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { tagNameSchema } from '../../config/agent-definition.js';
import { describeFields, issuesToFieldErrors } from '../../config/format-issues.js';
import { NightshiftError, type FieldError } from '../../errors.js';
import {
  budgetTotals,
  type BudgetCounter,
  type BudgetGrant,
  type BudgetTotals,
} from '../../storage/contracts/index.js';
import type { ServiceContext } from '../service-context.js';
import { grantedPayload, grantEventAgentId } from './budget-granted-event.js';
import {
  agentWindowLines,
  sharedWindowLines,
  storeLimits,
  type BudgetLimits,
  type ConfiguredLine,
  type NamedBudgetLine,
} from './budget-lines.js';

/** Budget windows a grant raises (a run's own budget cannot be granted more). */
type GrantWindow = 'per_day' | 'per_month';

const amount = z.number({ error: 'must be a number' }).min(0, { error: 'must be at least 0' });
const count = z
  .number()
  .int({ error: 'must be a whole number' })
  .min(0, { error: 'must be at least 0' });

/** What a person grants, as the service checks it. */
const grantInputSchema = z
  .strictObject({
    scope: z.union(
      [
        z.strictObject({ agent_id: z.string().min(1, { error: 'must not be empty' }) }),
        z.strictObject({ tag: tagNameSchema }),
        z.strictObject({ fleet: z.literal(true) }),
      ],
      { error: 'must be { agent_id }, { tag } or { fleet: true }' },
    ),
    window: z.enum(['per_day', 'per_month'], { error: 'must be per_day or per_month' }),
    usd: amount.max(1_000_000_000, { error: 'must be at most 1000000000' }).optional(),
    tokens: count.optional(),
    requests: count.optional(),
    tool_calls: count.optional(),
    by: z
      .string({ error: 'required: who grants it' })
      .trim()
      .min(1, { error: 'required: who grants it' })
      .max(200),
    note: z.string({ error: 'required: why' }).trim().min(1, { error: 'required: why' }).max(2_000),
    expires_at: z.iso
      .datetime({
        offset: true,
        error: 'must be an ISO 8601 instant with its offset, e.g. 2026-12-03T18:00:00Z',
      })
      .optional(),
  })
  .refine(
    (input) =>
      [input.usd, input.tokens, input.requests, input.tool_calls].some(
        (value) => value !== undefined,
      ),
    { path: ['usd'], error: 'give at least one of usd, tokens, requests, tool_calls' },
  );

/**
 * What a person grants: more of one window of one scope's budget, until the window resets or
 * `expires_at` (an instant in the future), whichever comes first.
 */
export type BudgetGrantInput = z.input<typeof grantInputSchema>;

/** Every dimension in the budget's units (dollars for usd). */
export interface BudgetFigures {
  usd: number;
  tokens: number;
  requests: number;
  tool_calls: number;
}

/** One budget as it stands now. Amounts in the budget's units (dollars for usd). */
export interface BudgetView {
  scope: 'agent' | 'tag' | 'fleet';
  /** The agent id or the tag; null for the fleet. */
  name: string | null;
  window: GrantWindow;
  /** The counter's key, e.g. `agent:archiver:per_day:2026-12-03`. */
  budget: string;
  resets_at: string;
  /** The limits as configured, only the dimensions capped. */
  limits: BudgetLimits;
  spent: BudgetFigures;
  held: BudgetFigures;
  granted: BudgetFigures;
}

/** A grant as the ledger keeps it. */
export interface BudgetGrantRecord extends BudgetFigures {
  grant_id: string;
  budget: string;
  scope: 'agent' | 'tag' | 'fleet';
  name: string | null;
  window: GrantWindow;
  by: string;
  note: string;
  granted_at: string;
  resets_at: string;
  /** When it stops counting before its window ends; null when it lasts the window. */
  expires_at: string | null;
  /** When it was expired (a sweep after `expires_at`); null while it counts, or without one. */
  expired_at: string | null;
}

function figuresOf(totals: BudgetTotals): BudgetFigures {
  return {
    usd: totals.micro_usd / 1_000_000,
    tokens: totals.tokens,
    requests: totals.requests,
    tool_calls: totals.tool_calls,
  };
}

function scopeOf(line: NamedBudgetLine): { scope: BudgetView['scope']; name: string | null } {
  if (line.scope.kind === 'tag') return { scope: 'tag', name: line.scope.tag };
  if (line.scope.kind === 'fleet') return { scope: 'fleet', name: null };
  // A line of an agent's window names it in its key: `agent:<id>:<window>:<period>`.
  return { scope: 'agent', name: line.key.split(':')[1] ?? null };
}

function viewOf(line: NamedBudgetLine, limits: BudgetLimits, counter: BudgetCounter): BudgetView {
  return {
    ...scopeOf(line),
    window: line.window as GrantWindow,
    budget: line.key,
    resets_at: line.resets_at,
    limits,
    spent: figuresOf(counter.spent),
    held: figuresOf(counter.held),
    granted: figuresOf(counter.granted),
  };
}

/**
 * Every day and month budget there is now: each agent's, each tag's, the fleet's; grants due to
 * expire are expired first, so `granted` counts only those that still do.
 */
export async function listBudgets(context: ServiceContext): Promise<BudgetView[]> {
  await expireBudgetGrants(context);
  const { store } = await context.connect();
  const at = context.now();
  const lines: ConfiguredLine[] = [];
  for (const record of await store.agents.list())
    lines.push(...agentWindowLines(record.definition, at));
  lines.push(...sharedWindowLines(context.fleetBudgets, at));
  const counters = await store.budgets.counters(lines.map(({ line }) => line.key));
  return lines.map(({ line, limits }, index) => viewOf(line, limits, counters[index]!));
}

/**
 * Records a grant (raising its window's limit until the window resets or its `expires_at`),
 * announces it (`budget_granted`) and returns it.
 */
export async function grantBudget(
  context: ServiceContext,
  input: unknown,
): Promise<{ grant: BudgetGrantRecord; budget: BudgetView }> {
  const parsed = grantInputSchema.safeParse(input);
  if (!parsed.success) {
    const fields = issuesToFieldErrors(parsed.error.issues, [], grantInputSchema);
    throw invalidGrant(fields);
  }
  const request = parsed.data;
  const at = context.now();
  const expiresAt = request.expires_at === undefined ? null : new Date(request.expires_at);
  if (expiresAt && expiresAt.getTime() <= at.getTime()) {
    throw invalidGrant([
      { path: 'expires_at', message: `must be in the future (it is ${at.toISOString()} now)` },
    ]);
  }
  const { store } = await context.connect();
  let candidates: ConfiguredLine[];
  let what: string;
  if ('agent_id' in request.scope) {
    const record = await store.agents.get(request.scope.agent_id);
    if (!record) throw context.notFound(request.scope.agent_id);
    candidates = agentWindowLines(record.definition, at);
    what = `agent ${request.scope.agent_id} has no ${request.window} budget (budget_config.${request.window})`;
  } else if ('tag' in request.scope) {
    const tag = request.scope.tag;
    candidates = sharedWindowLines(context.fleetBudgets, at).filter(
      ({ line }) => line.scope.kind === 'tag' && line.scope.tag === tag,
    );
    what = `tag ${tag} has no ${request.window} budget (budgets.tags.${tag}.${request.window})`;
  } else {
    candidates = sharedWindowLines(context.fleetBudgets, at).filter(
      ({ line }) => line.scope.kind === 'fleet',
    );
    what = `the fleet has no ${request.window} budget (budgets.fleet.${request.window})`;
  }
  const found = candidates.find(({ line }) => line.window === request.window);
  if (!found) throw new NightshiftError('invalid_state', `nothing to grant: ${what}`);
  // Granting what the budget does not cap would change nothing: say so rather than record it.
  const uncapped = (['usd', 'tokens', 'requests', 'tool_calls'] as const).filter(
    (dimension) => request[dimension] !== undefined && found.limits[dimension] === undefined,
  );
  if (uncapped.length > 0) {
    const capped = Object.keys(found.limits).join(', ');
    const fields = uncapped.map((dimension) => ({
      path: dimension,
      message: `this budget does not cap ${dimension} (it caps ${capped})`,
    }));
    throw invalidGrant(fields);
  }
  const grant: BudgetGrant = {
    grant_id: randomUUID(),
    key: found.line.key,
    amounts: budgetTotals(
      storeLimits({
        usd: request.usd,
        tokens: request.tokens,
        requests: request.requests,
        tool_calls: request.tool_calls,
      }),
    ),
    by: request.by,
    note: request.note,
    granted_at: at.toISOString(),
    resets_at: found.line.resets_at,
    expires_at: expiresAt?.toISOString() ?? null,
    expired_at: null,
  };
  const counter = await store.budgets.grant(grant);
  const record = recordOf(grant);
  // After the ledger write: whoever hears of the grant (runs waiting for budget) finds it there.
  // The grant stands whatever happens to its announcement: a failure is logged, not thrown, so
  // a person does not grant again what was granted.
  const { publisher } = await context.connect();
  await publisher
    .publish('budget_granted', grantEventAgentId(record), null, grantedPayload(record))
    .catch((error: unknown) => context.logFailure(error, `announcing grant ${record.grant_id}`));
  return { grant: record, budget: viewOf(found.line, found.limits, counter) };
}

/**
 * The ledger, newest first, each grant with `expires_at` and, once expired, `expired_at`; grants
 * due to expire are expired first.
 */
export async function listBudgetGrants(
  context: ServiceContext,
  options: { limit?: number } = {},
): Promise<BudgetGrantRecord[]> {
  await expireBudgetGrants(context);
  const { store } = await context.connect();
  const grants = await store.budgets.listGrants({ limit: options.limit ?? 100 });
  return grants.map(recordOf);
}

/**
 * Expires the grants whose `expires_at` has passed (by the service's clock): what they granted
 * stops counting, once, whichever process sweeps first. The manager's periodic sync calls it,
 * and so do the listings before they answer; with no grant due it is one cheap read. Never
 * throws: a sweep that fails is logged and done again by the next. Returns the grants it expired.
 */
export async function expireBudgetGrants(context: ServiceContext): Promise<BudgetGrantRecord[]> {
  try {
    const { store } = await context.connect();
    const expired = (await store.budgets.expireGrants(context.now())).map(recordOf);
    if (expired.length > 0)
      context.logger.info(
        { grant_ids: expired.map((grant) => grant.grant_id) },
        `nightshift: ${expired.length} budget grant(s) expired`,
      );
    return expired;
  } catch (error) {
    if (!context.shuttingDown) context.logFailure(error, 'expiring budget grants');
    return [];
  }
}

/** `config_invalid` for a grant, naming each bad field. */
function invalidGrant(fields: FieldError[]): NightshiftError {
  return new NightshiftError('config_invalid', `invalid budget grant: ${describeFields(fields)}`, {
    fields,
  });
}

/** A ledger entry as the API shows it: its scope and window read from its counter's key. */
function recordOf(grant: BudgetGrant): BudgetGrantRecord {
  const parts = grant.key.split(':');
  const fleet = parts[0] === 'fleet';
  const window = (fleet ? parts[1] : parts[2]) as GrantWindow;
  return {
    grant_id: grant.grant_id,
    budget: grant.key,
    scope: parts[0] === 'agent' ? 'agent' : parts[0] === 'tag' ? 'tag' : 'fleet',
    name: fleet ? null : (parts[1] ?? null),
    window,
    ...figuresOf(grant.amounts),
    by: grant.by,
    note: grant.note,
    granted_at: grant.granted_at,
    resets_at: grant.resets_at,
    expires_at: grant.expires_at,
    expired_at: grant.expired_at,
  };
}
