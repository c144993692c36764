/**
 * What a budget counts. Every amount is a whole number, so sums and comparisons are exact on
 * every backend: money in millionths of a US dollar (`micro_usd`), tokens, model requests and
 * tool calls.
 */
export const BUDGET_DIMENSIONS = ['micro_usd', 'tokens', 'requests', 'tool_calls'] as const;

/** One of {@link BUDGET_DIMENSIONS}. */
export type BudgetDimension = (typeof BUDGET_DIMENSIONS)[number];

/** Whole, non-negative amounts by dimension; a dimension left out is 0 (or, in limits, no limit). */
export type BudgetAmounts = Partial<Record<BudgetDimension, number>>;

/** Every dimension, at zero where nothing was counted. */
export type BudgetTotals = Record<BudgetDimension, number>;

/**
 * One budget a hold must fit in: a counter (a scope's window, e.g.
 * `agent:archiver:per_day:2026-12-03` or `fleet:per_month:2026-12`) and its limits.
 */
export interface BudgetLine {
  /** The counter's key. The store treats it as opaque. */
  key: string;
  /** The limit of each dimension this budget caps; a dimension left out is not capped here. */
  limits: BudgetAmounts;
  /** When the window ends (ISO 8601): the counter is not used after it and may be dropped later. */
  resets_at: string;
}

/** An amount held against some counters for one model request or tool call of a run. */
export interface BudgetHold {
  hold_id: string;
  run_id: string;
  /** The counters it is held against. */
  keys: string[];
  amounts: BudgetTotals;
  created_at: string;
}

/** Why a hold did not fit: the first budget (in the order given) and dimension it would cross. */
export interface BudgetRefusal {
  key: string;
  dimension: BudgetDimension;
  /** The line's limit plus what was granted on the counter. */
  limit: number;
  spent: number;
  held: number;
  /** The amount the hold asked for in this dimension. */
  asked: number;
}

/** What {@link BudgetStore.hold} did. */
export type HoldOutcome =
  { held: true; hold: BudgetHold } | { held: false; refusal: BudgetRefusal };

/** One counter as stored: what was spent and is held in its window, and what was granted on top. */
export interface BudgetCounter {
  key: string;
  spent: BudgetTotals;
  held: BudgetTotals;
  granted: BudgetTotals;
  /** Undefined for a counter never written. */
  resets_at: string | undefined;
}

/** One grant as the ledger keeps it, forever (counters are dropped after their window; grants never). */
export interface BudgetGrant {
  grant_id: string;
  /** The counter it raised: `agent:archiver:per_day:2026-12-03`, `fleet:per_month:2026-12`, … */
  key: string;
  /** Whole amounts by dimension (micro_usd, tokens, requests, tool_calls), every dimension present. */
  amounts: BudgetTotals;
  /** Who granted it (a person's name or handle). */
  by: string;
  /** Why. */
  note: string;
  granted_at: string;
  /** When the window it raised ends (the counter's resets_at when it is created by the grant). */
  resets_at: string;
  /**
   * When it stops counting before its window ends (ISO 8601); null when it lasts the window. A
   * grant whose `expires_at` is at or after `resets_at` lapses with its window.
   */
  expires_at: string | null;
  /**
   * When {@link BudgetStore.expireGrants} expired it (that call's `now`); null while it counts,
   * and for a grant without `expires_at`.
   */
  expired_at: string | null;
}

/**
 * A grant as {@link BudgetStore.grant} takes it: `expires_at` may be left out (no expiry), and
 * `expired_at` is the store's to set.
 */
export type NewBudgetGrant = Omit<BudgetGrant, 'expires_at' | 'expired_at'> & {
  expires_at?: string | null;
};

/** What {@link BudgetStore.listGrants} is asked. */
export interface ListBudgetGrantsOptions {
  /** At most this many, a whole number at least 0 (default {@link DEFAULT_GRANT_LIST_LIMIT}). */
  limit?: number;
  /** Only grants whose key starts with this (code units; `''` for every grant). */
  keyPrefix?: string;
}

/** How many grants {@link BudgetStore.listGrants} gives when no limit is asked. */
export const DEFAULT_GRANT_LIST_LIMIT = 100;

/**
 * Spend counters with limits, shared by every process on the store. `hold` is one atomic
 * check-and-add across all its lines (a guarded SQL update in one transaction, a Redis Lua
 * script), so processes racing on one budget never spend past it together.
 *
 * Every method refuses bad input (amounts or limits that are not whole numbers at least 0, an
 * unknown dimension, a `resets_at` that is not a date, an empty id) with a `TypeError` or
 * `RangeError` naming the field, before anything is written (see {@link checkBudgetHold}).
 * A counter is dropped, at the store's leisure, once {@link BUDGET_COUNTER_RETENTION_MS} have
 * passed both since its window ended and since it was created.
 */
export interface BudgetStore {
  /**
   * Holds `amounts` against every line at once, if for each line and each dimension it limits
   * `spent + held + amount <= limit + granted`; then adds `amounts` to each line's `held` and
   * records the hold. Otherwise changes nothing and says which budget does not fit: the first
   * line in the order given, and its first dimension in {@link BUDGET_DIMENSIONS} order, that
   * the hold would cross (what {@link budgetRefusal} gives). Holding an id already held returns
   * that hold and changes nothing (whatever this call asked); an id settled already is held
   * anew. A key given in several lines is one counter, held once, within every line's limits;
   * a counter created by the hold takes its first line's `resets_at`. `now` stamps
   * `created_at`.
   */
  hold(
    holdId: string,
    runId: string,
    lines: readonly BudgetLine[],
    amounts: BudgetAmounts,
    now: Date,
  ): Promise<HoldOutcome>;
  /**
   * Ends a hold: its amounts leave `held` on each of its counters and `actual` is added to their
   * `spent` (what the call really cost, more or less than held; `{}` to release). False,
   * changing nothing, for a hold that is not open (settled already, or never held): settling
   * twice never counts twice. A counter dropped meanwhile is not written again.
   */
  settle(holdId: string, actual: BudgetAmounts): Promise<boolean>;
  /** The open holds of a run, oldest first (a crashed run's, for recovery to release). */
  holdsOf(runId: string): Promise<BudgetHold[]>;
  /** The counters under these keys, in the order asked; one never written reads as zeroes. */
  counters(keys: readonly string[]): Promise<BudgetCounter[]>;
  /**
   * Atomically adds `grant.amounts` to the counter's `granted` (creating the counter, with
   * `grant.resets_at`, if absent) and appends the grant to the ledger. A `grant_id` already in the
   * ledger changes nothing (a retried request is not granted twice). Returns the counter after.
   * An existing counter keeps its own `resets_at`; a dimension left out of `amounts` counts as 0.
   * Refuses a bad grant (see {@link checkBudgetGrant}) before writing anything. A grant with an
   * `expires_at` is also indexed for {@link BudgetStore.expireGrants}.
   */
  grant(grant: NewBudgetGrant): Promise<BudgetCounter>;
  /**
   * The ledger, newest first (granted_at, then grant_id, descending); at most `limit` (default
   * 100). Optionally only grants whose key starts with `keyPrefix`. Times compare as instants
   * (`Date.parse`), ids in code-unit order (see {@link compareBudgetGrants}); each grant reads as
   * it was given, its `amounts` with every dimension.
   */
  listGrants(options?: ListBudgetGrantsOptions): Promise<BudgetGrant[]>;
  /**
   * Expires every grant whose `expires_at` is at or before `now` and that is not expired yet:
   * stamps its `expired_at` with `now` and, when it expired before its window ended
   * (`expires_at` before `resets_at`), takes its amounts back out of its counter's `granted`
   * (each dimension never below 0; a counter dropped meanwhile is not made again). A grant whose
   * window ended first lapsed with it: it is stamped, and its counter left as it is. Each grant
   * is expired once, also by calls racing in several processes (a guarded update in one
   * transaction, a Lua script): its amounts leave `granted` once. Returns the grants this call
   * expired, as the ledger keeps them now, in {@link compareBudgetExpiries} order (none: `[]`,
   * cheaply — one indexed read when no grant is due).
   */
  expireGrants(now: Date): Promise<BudgetGrant[]>;
}

/**
 * How long a counter is kept after its window ends (and after it was created, for a window
 * that ended before): longer than any window, so reports can still read last month's.
 */
export const BUDGET_COUNTER_RETENTION_MS = 35 * 24 * 60 * 60 * 1_000;

/** Every dimension at zero. */
export function zeroBudgetTotals(): BudgetTotals {
  return { micro_usd: 0, tokens: 0, requests: 0, tool_calls: 0 };
}

/** `amounts` with every dimension present (0 where left out). */
export function budgetTotals(amounts: BudgetAmounts): BudgetTotals {
  return {
    micro_usd: amounts.micro_usd ?? 0,
    tokens: amounts.tokens ?? 0,
    requests: amounts.requests ?? 0,
    tool_calls: amounts.tool_calls ?? 0,
  };
}

/**
 * The check every backend applies, for one line: the first dimension the hold would cross, if
 * any. Backends that check in the database (SQL, Lua) must agree with it exactly.
 */
export function firstCrossing(
  line: BudgetLine,
  counter: BudgetCounter,
  amounts: BudgetTotals,
): BudgetRefusal | undefined {
  for (const dimension of BUDGET_DIMENSIONS) {
    const limit = line.limits[dimension];
    if (limit === undefined) continue;
    const ceiling = limit + counter.granted[dimension];
    const spent = counter.spent[dimension];
    const held = counter.held[dimension];
    if (spent + held + amounts[dimension] > ceiling)
      return { key: line.key, dimension, limit: ceiling, spent, held, asked: amounts[dimension] };
  }
  return undefined;
}

/** Amounts must be whole and non-negative: stores refuse others before writing anything. */
export function checkBudgetAmounts(amounts: BudgetAmounts, what: string): void {
  for (const [dimension, value] of Object.entries(amounts)) {
    if (!(BUDGET_DIMENSIONS as readonly string[]).includes(dimension))
      throw new TypeError(`${what}.${dimension}: not a budget dimension`);
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
      throw new RangeError(
        `${what}.${dimension}: must be a whole number at least 0 (got ${value})`,
      );
  }
}

/** A counter never written: every amount at zero, no window. */
export function emptyBudgetCounter(key: string): BudgetCounter {
  return {
    key,
    spent: zeroBudgetTotals(),
    held: zeroBudgetTotals(),
    granted: zeroBudgetTotals(),
    resets_at: undefined,
  };
}

/**
 * A `resets_at` (or a grant's `granted_at`) must be a date `Date.parse` reads; stores refuse
 * others before writing.
 */
export function checkResetsAt(resetsAt: string, what: string): void {
  if (typeof resetsAt !== 'string' || Number.isNaN(Date.parse(resetsAt)))
    throw new RangeError(`${what}: not a date (got ${JSON.stringify(resetsAt)})`);
}

/**
 * The checks of {@link BudgetStore.hold}'s arguments, which every store runs before writing
 * anything: throws a `TypeError` or `RangeError` naming the field (`amounts.tokens`,
 * `lines[1].limits.micro_usd`, `lines[0].resets_at` …).
 */
export function checkBudgetHold(
  holdId: string,
  runId: string,
  lines: readonly BudgetLine[],
  amounts: BudgetAmounts,
): void {
  checkId(holdId, 'holdId');
  checkId(runId, 'runId');
  for (const [index, line] of lines.entries()) {
    if (typeof line.key !== 'string') throw new TypeError(`lines[${index}].key: not a string`);
    checkBudgetAmounts(line.limits, `lines[${index}].limits`);
    checkResetsAt(line.resets_at, `lines[${index}].resets_at`);
  }
  checkBudgetAmounts(amounts, 'amounts');
}

/** A counter a hold writes, with every limit its lines set on it. */
export interface BudgetHoldCounter {
  key: string;
  /** The smallest limit of each dimension any line on this key sets. */
  limits: BudgetAmounts;
  /** The first such line's. */
  resets_at: string;
}

/** The counters a hold writes: each key once, in the order its first line comes. */
export function budgetHoldCounters(lines: readonly BudgetLine[]): BudgetHoldCounter[] {
  const counters = new Map<string, BudgetHoldCounter>();
  for (const line of lines) {
    const counter = counters.get(line.key);
    if (!counter) {
      counters.set(line.key, {
        key: line.key,
        limits: { ...line.limits },
        resets_at: line.resets_at,
      });
      continue;
    }
    for (const dimension of BUDGET_DIMENSIONS) {
      const limit = line.limits[dimension];
      if (limit === undefined) continue;
      counter.limits[dimension] = Math.min(limit, counter.limits[dimension] ?? limit);
    }
  }
  return [...counters.values()];
}

/**
 * Why a hold of `amounts` does not fit `lines` whose counters read as `counterOf` gives: the
 * first line in the order given that {@link firstCrossing} refuses; undefined when all fit.
 */
export function budgetRefusal(
  lines: readonly BudgetLine[],
  counterOf: (key: string) => BudgetCounter,
  amounts: BudgetTotals,
): BudgetRefusal | undefined {
  for (const line of lines) {
    const refusal = firstCrossing(line, counterOf(line.key), amounts);
    if (refusal) return refusal;
  }
  return undefined;
}

/**
 * When a counter may be dropped (ms since the epoch): {@link BUDGET_COUNTER_RETENTION_MS} after
 * its window ends, or after `createdAtMs` when that is later.
 */
export function budgetCounterDropAfter(resetsAt: string, createdAtMs: number): number {
  return Math.max(Date.parse(resetsAt), createdAtMs) + BUDGET_COUNTER_RETENTION_MS;
}

/** The order of {@link BudgetStore.holdsOf}: oldest first, then by id (code-unit order). */
export function compareBudgetHolds(a: BudgetHold, b: BudgetHold): number {
  const byTime = Date.parse(a.created_at) - Date.parse(b.created_at);
  if (byTime !== 0) return byTime;
  if (a.hold_id === b.hold_id) return 0;
  return a.hold_id < b.hold_id ? -1 : 1;
}

/**
 * The checks of {@link BudgetStore.grant}'s argument, which every store runs before writing
 * anything: a `TypeError` or `RangeError` naming the field (`grant.amounts.tokens`,
 * `grant.grant_id`, `grant.granted_at` …). `grant_id`, `key` and `by` must be non-empty
 * strings, `note` a string (empty allowed), `granted_at` and `resets_at` dates, `expires_at`
 * absent, null or a date after `granted_at`.
 */
export function checkBudgetGrant(grant: NewBudgetGrant): void {
  if (typeof grant !== 'object' || grant === null) throw new TypeError('grant: not an object');
  checkId(grant.grant_id, 'grant.grant_id');
  checkId(grant.key, 'grant.key');
  if (typeof grant.amounts !== 'object' || grant.amounts === null)
    throw new TypeError('grant.amounts: not an object');
  checkBudgetAmounts(grant.amounts, 'grant.amounts');
  checkId(grant.by, 'grant.by');
  if (typeof grant.note !== 'string') throw new TypeError('grant.note: not a string');
  checkResetsAt(grant.granted_at, 'grant.granted_at');
  checkResetsAt(grant.resets_at, 'grant.resets_at');
  const expiresAt = grant.expires_at ?? null;
  if (expiresAt === null) return;
  checkResetsAt(expiresAt, 'grant.expires_at');
  if (Date.parse(expiresAt) <= Date.parse(grant.granted_at))
    throw new RangeError(
      `grant.expires_at: must be after grant.granted_at (got ${JSON.stringify(expiresAt)})`,
    );
}

/**
 * A grant as stores keep it when it is given: a copy with the contract's fields only, every
 * dimension present, `expires_at` null when left out, not expired.
 */
export function budgetGrantRecord(grant: NewBudgetGrant): BudgetGrant {
  return {
    grant_id: grant.grant_id,
    key: grant.key,
    amounts: budgetTotals(grant.amounts),
    by: grant.by,
    note: grant.note,
    granted_at: grant.granted_at,
    resets_at: grant.resets_at,
    expires_at: grant.expires_at ?? null,
    expired_at: null,
  };
}

/**
 * Whether an expiring grant's amounts leave its counter: only when it expired before its window
 * ended. One whose window ended first lapsed with it, and its counter (kept for reports) stays.
 */
export function expiresWithinWindow(grant: BudgetGrant): boolean {
  return grant.expires_at !== null && Date.parse(grant.expires_at) < Date.parse(grant.resets_at);
}

/**
 * What expiring `grants` takes out of each counter's `granted`: per key (in code-unit order, the
 * order SQL stores lock counters in), the sum of the amounts of those that expired within their
 * window (see {@link expiresWithinWindow}). Keys with nothing to take out are left out.
 */
export function expiredGrantAmounts(
  grants: readonly BudgetGrant[],
): { key: string; amounts: BudgetTotals }[] {
  const byKey = new Map<string, BudgetTotals>();
  for (const grant of grants) {
    if (!expiresWithinWindow(grant)) continue;
    let totals = byKey.get(grant.key);
    if (!totals) byKey.set(grant.key, (totals = zeroBudgetTotals()));
    for (const dimension of BUDGET_DIMENSIONS) totals[dimension] += grant.amounts[dimension];
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, amounts]) => ({ key, amounts }));
}

/**
 * The order of {@link BudgetStore.expireGrants}' answer: the earliest `expires_at` first (as
 * instants), then by `grant_id` (code-unit order).
 */
export function compareBudgetExpiries(a: BudgetGrant, b: BudgetGrant): number {
  const byTime = Date.parse(a.expires_at!) - Date.parse(b.expires_at!);
  if (byTime !== 0) return byTime;
  if (a.grant_id === b.grant_id) return 0;
  return a.grant_id < b.grant_id ? -1 : 1;
}

/** `now`, checked: a `TypeError` naming `now` for anything but a valid Date. */
export function checkExpiryNow(now: Date): number {
  if (!(now instanceof Date) || Number.isNaN(now.getTime()))
    throw new TypeError('now: must be a valid Date');
  return now.getTime();
}

/**
 * {@link BudgetStore.listGrants}'s options, checked (a `RangeError` for a `limit` that is not a
 * whole number at least 0, a `TypeError` for a `keyPrefix` that is not a string) and defaulted.
 */
export function budgetGrantListing(options: ListBudgetGrantsOptions = {}): {
  limit: number;
  keyPrefix: string;
} {
  const { limit = DEFAULT_GRANT_LIST_LIMIT, keyPrefix = '' } = options;
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError(`limit: must be a whole number at least 0 (got ${limit})`);
  if (typeof keyPrefix !== 'string') throw new TypeError('keyPrefix: not a string');
  return { limit, keyPrefix };
}

/**
 * The order of {@link BudgetStore.listGrants}: newest `granted_at` first (as instants), then by
 * `grant_id` descending (code-unit order).
 */
export function compareBudgetGrants(a: BudgetGrant, b: BudgetGrant): number {
  const byTime = Date.parse(b.granted_at) - Date.parse(a.granted_at);
  if (byTime !== 0) return byTime;
  if (a.grant_id === b.grant_id) return 0;
  return a.grant_id < b.grant_id ? 1 : -1;
}

function checkId(id: string, what: string): void {
  if (typeof id !== 'string' || id === '')
    throw new TypeError(`${what}: must be a non-empty string`);
}
