import type { EventPayloads } from '../../storage/contracts/index.js';

/** What the event says of a grant: the ledger's entry (`BudgetGrantRecord`) has all of it. */
type GrantedPayload = EventPayloads['budget_granted'];

/**
 * The `agent_id` a `budget_granted` event is published under: the agent's for an agent's
 * budget; `tag:<tag>` or `fleet:all` for a tag's or the fleet's. Agent ids have no `:`, so
 * these name no agent: such an event is in the fleet's stream and in no agent's, and a reader
 * of one agent's events is not told of grants that are not that agent's own.
 */
export function grantEventAgentId(grant: Pick<GrantedPayload, 'scope' | 'name'>): string {
  if (grant.scope === 'agent') return grant.name ?? '';
  if (grant.scope === 'tag') return `tag:${grant.name ?? ''}`;
  return 'fleet:all';
}

/** The payload of the `budget_granted` event of a grant: its fields, and no others. */
export function grantedPayload(grant: GrantedPayload): GrantedPayload {
  return {
    grant_id: grant.grant_id,
    budget: grant.budget,
    scope: grant.scope,
    name: grant.name,
    window: grant.window,
    usd: grant.usd,
    tokens: grant.tokens,
    requests: grant.requests,
    tool_calls: grant.tool_calls,
    by: grant.by,
    note: grant.note,
    expires_at: grant.expires_at,
    resets_at: grant.resets_at,
  };
}
