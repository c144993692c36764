/** What retention removed (or, in a dry run, would remove), by kind. */
export interface RetentionCounts {
  /** Ended runs, with their steps. */
  runs: number;
  /** Events, from the agent's history and the fleet's. */
  events: number;
  /** Conversation messages beyond a session's newest `messages_per_session`. */
  messages: number;
}

/** The kinds of {@link RetentionCounts}, in the order they are swept. */
export const RETENTION_KINDS = ['runs', 'events', 'messages'] as const;

/** What one sweep (or `pruneNow`) removed, or would remove: in all, and per agent. */
export interface PruneReport {
  dry_run: boolean;
  /** When the cutoffs were taken (ISO). */
  swept_at: string;
  totals: RetentionCounts;
  /**
   * Per agent id (only agents with something to remove). Events under `fleet:all` and
   * `tag:<tag>` are the fleet's and the tags' own (budget grants).
   */
  agents: Record<string, RetentionCounts>;
  /**
   * False when a periodic pass stopped at its batch budget with more left to remove: the next
   * pass goes on from there. Always true for `pruneNow`.
   */
  complete: boolean;
}

/** Nothing removed. */
export function noCounts(): RetentionCounts {
  return { runs: 0, events: 0, messages: 0 };
}

/** `into` plus `counts`, kind by kind (it changes `into`). */
export function addCounts(into: RetentionCounts, counts: RetentionCounts): RetentionCounts {
  for (const kind of RETENTION_KINDS) into[kind] += counts[kind];
  return into;
}
