import type { RunBudget, BudgetStop, HeldBudget } from '../../agent/index.js';
import type { AgentDefinition } from '../../config/agent-definition.js';
import {
  costMicroUsd,
  resolvePrice,
  usdToMicroUsd,
  type ModelPricing,
  type ResolvedPrice,
} from '../../config/pricing.js';
import type {
  BudgetAmounts,
  BudgetCounter,
  BudgetDimension,
  BudgetRefusal,
  BudgetStopInfo,
  BudgetStore,
  EventPayloads,
  RunStep,
  Usage,
} from '../../storage/contracts/index.js';
import {
  budgetCode,
  DIMENSION_NAME,
  budgetLinesOf,
  budgetsApply,
  describeAmount,
  describeLine,
  type FleetBudgets,
  type NamedBudgetLine,
} from './budget-lines.js';

/** Where budget events go (the service's event publisher). */
export type BudgetEventSink = (
  agentId: string,
  runId: string | null,
  payload: EventPayloads['budget_exhausted'],
) => Promise<void>;

/** What the budgets of a service need. */
export interface ServiceBudgetsOptions {
  fleet: FleetBudgets;
  /** Prices by model name (the Nightshift file's `pricing:`), over the built-in table. */
  pricing: Readonly<Record<string, ModelPricing>>;
  now: () => Date;
  publish: BudgetEventSink;
}

/** A budget line found spent: what a skipped tick and its event say. */
export interface SpentBudget {
  code: string;
  reason: string;
  payload: EventPayloads['budget_exhausted'];
}

/** Each dimension a budget names, as the store counts it. */
const STORE_DIMENSION: Record<BudgetStopInfo['dimension'], BudgetDimension> = {
  usd: 'micro_usd',
  tokens: 'tokens',
  requests: 'requests',
  tool_calls: 'tool_calls',
};

/** An amount in the budget's unit (dollars for money), as events carry it. */
function inUnit(dimension: BudgetDimension, amount: number): number {
  return dimension === 'micro_usd' ? amount / 1_000_000 : amount;
}

/**
 * Prices and budgets, as one service applies them: the price of an agent's model, the gate each
 * run's calls are held against (the agent's, its tags' and the fleet's budgets, in the store so
 * every process shares them), whether a tick finds a window spent, and the release of a dead
 * run's holds.
 */
export class ServiceBudgets {
  readonly #options: ServiceBudgetsOptions;

  constructor(options: ServiceBudgetsOptions) {
    this.#options = options;
  }

  /** The model's price (`model_config.pricing`, the file's, the table's, free), if known. */
  priceOf(definition: AgentDefinition): ResolvedPrice | undefined {
    return resolvePrice(definition.model_config, this.#options.pricing);
  }

  /** The price a run records costs at: none for a free model (its usage records no cost). */
  recordedPricing(definition: AgentDefinition): ModelPricing | undefined {
    const price = this.priceOf(definition);
    return price && price.source !== 'free' ? price.pricing : undefined;
  }

  /** Whether any budget applies to the agent's runs (none: its calls are not held at all). */
  applies(definition: AgentDefinition): boolean {
    return budgetsApply(definition, this.#options.fleet);
  }

  /** The gate of one run's calls; undefined when no budget applies to the agent. */
  forRun(definition: AgentDefinition, runId: string, store: BudgetStore): RunBudget | undefined {
    if (!this.applies(definition)) return undefined;
    const pricing = this.priceOf(definition)?.pricing;
    const { fleet, now } = this.#options;
    const hold = async (
      stepId: string,
      amounts: BudgetAmounts,
      settled: (usage: Usage | undefined) => BudgetAmounts,
    ): Promise<HeldBudget | BudgetStop> => {
      const lines = budgetLinesOf(definition, runId, fleet, now());
      const holdId = `${runId}/${stepId}`;
      const outcome = await store.hold(holdId, runId, lines, amounts, now());
      if (!outcome.held) return this.#refused(definition.agent_id, runId, lines, outcome.refusal);
      return {
        settle: async (usage) => {
          await store.settle(holdId, settled(usage));
        },
      };
    };
    return {
      holdModelCall: (estimate) =>
        hold(
          estimate.step_id,
          {
            requests: 1,
            tokens: estimate.prompt_tokens + estimate.max_output_tokens,
            micro_usd: pricing
              ? costMicroUsd(
                  {
                    input_tokens: estimate.prompt_tokens,
                    output_tokens: estimate.max_output_tokens,
                  },
                  pricing,
                )
              : 0,
          },
          (usage) =>
            usage
              ? {
                  requests: 1,
                  tokens: usage.total_tokens,
                  micro_usd: pricing ? costMicroUsd(usage, pricing) : 0,
                }
              : // A request that failed was made: it counts, and billed no tokens we know of.
                { requests: 1 },
        ),
      holdToolCall: (stepId) => hold(stepId, { tool_calls: 1 }, () => ({ tool_calls: 1 })),
    };
  }

  /**
   * The first of the agent's day and month budgets (its own, its tags', the fleet's) that is
   * spent now: a scheduled tick is then skipped, with nothing spent. A run's own budget never
   * skips a tick.
   */
  async spent(definition: AgentDefinition, store: BudgetStore): Promise<SpentBudget | undefined> {
    const lines = budgetLinesOf(
      definition,
      'tick',
      this.#options.fleet,
      this.#options.now(),
    ).filter((line) => line.window !== 'per_run');
    if (lines.length === 0) return undefined;
    const counters = await store.counters(lines.map((line) => line.key));
    for (const [index, line] of lines.entries()) {
      const counter = counters[index]!;
      const dimension = spentDimension(line, counter);
      if (!dimension) continue;
      const limit = (line.limits[dimension] ?? 0) + counter.granted[dimension];
      const refusal: BudgetRefusal = {
        key: line.key,
        dimension,
        limit,
        spent: counter.spent[dimension],
        held: counter.held[dimension],
        asked: 0,
      };
      const payload = exhaustedPayload(line, refusal);
      return {
        code: payload.code,
        reason: `budget: ${describeLine(line)} is spent until ${line.resets_at}`,
        payload,
      };
    }
    return undefined;
  }

  /** Says that a budget stopped a call or skipped a tick (`budget_exhausted`, and the agent's status). */
  exhausted(
    agentId: string,
    runId: string | null,
    payload: EventPayloads['budget_exhausted'],
  ): Promise<void> {
    return this.#options.publish(agentId, runId, payload);
  }

  /**
   * Whether a run that waits for a budget may go on now: none of the agent's day and month
   * budgets is spent, and the one that stopped it (`stop`) has room for what its call asked —
   * or its window has reset (the counter it named is no longer the current one).
   */
  async roomFor(
    definition: AgentDefinition,
    stop: BudgetStopInfo | undefined,
    store: BudgetStore,
  ): Promise<boolean> {
    const lines = budgetLinesOf(
      definition,
      'wake',
      this.#options.fleet,
      this.#options.now(),
    ).filter((line) => line.window !== 'per_run');
    if (lines.length === 0) return true;
    const counters = await store.counters(lines.map((line) => line.key));
    for (const [index, line] of lines.entries()) {
      const counter = counters[index]!;
      if (spentDimension(line, counter)) return false;
      if (!stop || line.key !== stop.budget) continue;
      const dimension = STORE_DIMENSION[stop.dimension];
      const limit = line.limits[dimension];
      if (limit === undefined) continue;
      const asked = dimension === 'micro_usd' ? usdToMicroUsd(stop.asked) : stop.asked;
      const used = counter.spent[dimension] + counter.held[dimension];
      if (used + asked > limit + counter.granted[dimension]) return false;
    }
    return true;
  }

  /**
   * Releases what a dead attempt still held: a model call whose reply its journal recorded is
   * settled to that usage, any other call to what it surely spent (a request made, a tool run).
   */
  async releaseRun(
    runId: string,
    steps: readonly RunStep[],
    store: BudgetStore,
    definition: AgentDefinition | undefined,
  ): Promise<void> {
    const pricing = definition ? this.priceOf(definition)?.pricing : undefined;
    for (const hold of await store.holdsOf(runId)) {
      const stepId = hold.hold_id.slice(runId.length + 1);
      const step = steps.find((candidate) => candidate.step_id === stepId);
      let actual: BudgetAmounts;
      if (hold.amounts.tool_calls > 0) actual = { tool_calls: step ? 1 : 0 };
      else if (step?.usage && step.state === 'completed')
        actual = {
          requests: 1,
          tokens: step.usage.total_tokens,
          micro_usd: pricing ? costMicroUsd(step.usage, pricing) : 0,
        };
      else actual = { requests: step ? 1 : 0 };
      await store.settle(hold.hold_id, actual);
    }
  }

  async #refused(
    agentId: string,
    runId: string,
    lines: readonly NamedBudgetLine[],
    refusal: BudgetRefusal,
  ): Promise<BudgetStop> {
    const line = lines.find((candidate) => candidate.key === refusal.key) ?? lines[0]!;
    const payload = exhaustedPayload(line, refusal);
    await this.#options.publish(agentId, runId, payload);
    return {
      code: budgetCode(line, refusal.dimension),
      message: payload.message,
      info: {
        budget: line.key,
        window: line.window,
        dimension: DIMENSION_NAME[refusal.dimension],
        asked: payload.asked,
        resets_at: payload.resets_at,
      },
    };
  }
}

/** The dimension of a line that has nothing left (spent and held reach its limit), if any. */
function spentDimension(
  line: NamedBudgetLine,
  counter: BudgetCounter,
): BudgetDimension | undefined {
  for (const [dimension, limit] of Object.entries(line.limits) as [BudgetDimension, number][]) {
    const ceiling = limit + counter.granted[dimension];
    if (counter.spent[dimension] + counter.held[dimension] >= ceiling) return dimension;
  }
  return undefined;
}

function exhaustedPayload(
  line: NamedBudgetLine,
  refusal: BudgetRefusal,
): EventPayloads['budget_exhausted'] {
  const { dimension } = refusal;
  const used = describeAmount(dimension, refusal.spent + refusal.held);
  const of = describeAmount(dimension, refusal.limit);
  const asked =
    refusal.asked > 0
      ? `; this call may cost up to ${describeAmount(dimension, refusal.asked)}`
      : '';
  const resets = line.window === 'per_run' ? '' : `; it resets at ${line.resets_at}`;
  return {
    code: budgetCode(line, dimension),
    message: `${describeLine(line)} is spent: ${used} of ${of} used or held${asked}${resets}`,
    budget: line.key,
    limit: inUnit(dimension, refusal.limit),
    spent: inUnit(dimension, refusal.spent),
    held: inUnit(dimension, refusal.held),
    asked: inUnit(dimension, refusal.asked),
    resets_at: line.window === 'per_run' ? null : line.resets_at,
  };
}
