import { NightshiftError } from '../../errors.js';
import type { AgentStatus } from '../../service/index.js';
import type {
  ApprovalRecord,
  BudgetStopInfo,
  ListApprovalsOptions,
  ListRunsOptions,
  RunRecord,
} from '../../storage/index.js';
import {
  INBOX_LISTED,
  type GrantTarget,
  type InboxBudgetWait,
  type InboxPausedAgent,
  type OperatorInbox,
} from './inbox-types.js';

/** What the inbox reads: the service's public methods. */
export interface InboxReader {
  listAgents(): Promise<AgentStatus[]>;
  listRuns(agentId: string, options?: ListRunsOptions): Promise<RunRecord[]>;
  listApprovals(options?: ListApprovalsOptions): Promise<ApprovalRecord[]>;
}

/** How the service words the pause it makes after failed runs in a row (`auto_pause_after_failures`). */
const AUTO_PAUSE_PREFIX = 'auto-paused after';
/** Agents whose waiting runs are read at once. */
const READ_CONCURRENCY = 8;
/** Waiting runs read per agent at most (the service counts an agent's waiting runs up to 100 too). */
const WAITING_RUNS_PER_AGENT = 100;

/** True for an agent the service paused after failures (not one a person paused). */
export function isAutoPaused(agent: AgentStatus): boolean {
  return agent.state === 'paused' && (agent.pause_reason ?? '').startsWith(AUTO_PAUSE_PREFIX);
}

/**
 * Where a grant of more of the budget a run waits on goes, from the budget's counter key
 * (`agent:<id>:<window>:<period>`, `tag:<tag>:<window>:<period>`, `fleet:<window>:<period>`;
 * neither agent ids nor tags hold a `:`). Null for a run's own budget, which no grant raises.
 */
export function grantTargetOf(budget: BudgetStopInfo | undefined): GrantTarget | null {
  if (!budget || (budget.window !== 'per_day' && budget.window !== 'per_month')) return null;
  const { window } = budget;
  const [kind, name] = budget.budget.split(':');
  if (kind === 'agent' && name) return { scope: { agent_id: name }, window };
  if (kind === 'tag' && name) return { scope: { tag: name }, window };
  if (kind === 'fleet') return { scope: { fleet: true }, window };
  return null;
}

function budgetWaitOf(run: RunRecord): InboxBudgetWait | undefined {
  if (run.status !== 'awaiting_budget' || !run.error) return undefined;
  return {
    run_id: run.run_id,
    agent_id: run.agent_id,
    waiting_since: run.attempts.at(-1)?.ended_at ?? run.started_at ?? run.created_at,
    error: run.error,
    grant: grantTargetOf(run.error.budget),
  };
}

function pausedAgentOf(agent: AgentStatus): InboxPausedAgent {
  return {
    agent_id: agent.agent_id,
    pause_reason: agent.pause_reason ?? '',
    paused_at: agent.updated_at,
    consecutive_failures: agent.consecutive_failures,
    last_run_status: agent.last_run_status,
    last_error: agent.last_error,
  };
}

/** The agent's runs waiting for a budget; none when the agent was deleted meanwhile. */
async function budgetWaitsOf(reader: InboxReader, agentId: string): Promise<InboxBudgetWait[]> {
  try {
    const runs = await reader.listRuns(agentId, {
      status: 'awaiting_budget',
      limit: WAITING_RUNS_PER_AGENT,
    });
    return runs.flatMap((run) => budgetWaitOf(run) ?? []);
  } catch (error) {
    if (error instanceof NightshiftError && error.code === 'agent_not_found') return [];
    throw error;
  }
}

const newestFirst = (a: string, b: string) => Date.parse(b) - Date.parse(a);

/**
 * Everything that waits on a person, from the service's public reads with bounded work: the
 * pending approvals (expired ones are expired by the read), the runs waiting for a budget (read
 * only for agents that have waiting runs), and the agents auto-paused after failures. At most
 * {@link INBOX_LISTED} of each, the newest.
 */
export async function buildInbox(reader: InboxReader, now: Date): Promise<OperatorInbox> {
  const [agents, approvals] = await Promise.all([
    reader.listAgents(),
    reader.listApprovals({ state: 'pending', limit: INBOX_LISTED }),
  ]);
  const waiting = agents.filter((agent) => agent.waiting_runs > 0);
  const budgetWaits: InboxBudgetWait[] = [];
  for (let index = 0; index < waiting.length; index += READ_CONCURRENCY) {
    const chunk = waiting.slice(index, index + READ_CONCURRENCY);
    const found = await Promise.all(chunk.map((agent) => budgetWaitsOf(reader, agent.agent_id)));
    budgetWaits.push(...found.flat());
  }
  budgetWaits.sort((a, b) => newestFirst(a.waiting_since, b.waiting_since));
  const pausedAgents = agents
    .filter(isAutoPaused)
    .map(pausedAgentOf)
    .sort((a, b) => newestFirst(a.paused_at, b.paused_at));
  const listedWaits = budgetWaits.slice(0, INBOX_LISTED);
  const listedPaused = pausedAgents.slice(0, INBOX_LISTED);
  return {
    generated_at: now.toISOString(),
    counts: {
      approvals: approvals.length,
      budget_waits: listedWaits.length,
      paused_agents: listedPaused.length,
      total: approvals.length + listedWaits.length + listedPaused.length,
    },
    approvals,
    budget_waits: listedWaits,
    paused_agents: listedPaused,
  };
}
