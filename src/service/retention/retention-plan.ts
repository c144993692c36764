import { effectiveRetention, type RetentionSettings } from '../../config/retention.js';
import type { AgentRecord } from '../../storage/contracts/index.js';

const DAY_MS = 86_400_000;

/** What to prune for one agent id, as of one instant. */
export interface RetentionTarget {
  /** An agent's id, or `fleet:all` / `tag:<tag>` (the fleet's and the tags' own events). */
  agent_id: string;
  /** Ended runs that ended before this instant go (ISO); none when unset. */
  runs_before?: string;
  /** Events stamped before this instant go (ISO); none when unset. */
  events_before?: string;
  /** The session trimmed to `messages_per_session`, when both are set. */
  session_id?: string;
  messages_per_session?: number;
  /** A `per_run` agent: each pruned run's own session goes with it. */
  sessions_per_run: boolean;
}

/** The instant `days` before `now` (ISO). */
function daysBefore(now: Date, days: number | undefined): string | undefined {
  return days === undefined ? undefined : new Date(now.getTime() - days * DAY_MS).toISOString();
}

/**
 * What retention prunes, as of `now`: each agent by its own settings over the fleet's, and the
 * events the fleet and the tags hold of their own (budget grants) by the fleet's.
 */
export function retentionTargets(
  records: readonly AgentRecord[],
  fleet: RetentionSettings,
  now: Date,
): RetentionTarget[] {
  const targets: RetentionTarget[] = records.map((record) => {
    const { definition } = record;
    const settings = effectiveRetention(definition.retention, fleet);
    const perRun =
      definition.task_config.session_policy === 'per_run' &&
      definition.task_config.session_id === undefined;
    return {
      agent_id: record.agent_id,
      ...optional('runs_before', daysBefore(now, settings.runs_days)),
      ...optional('events_before', daysBefore(now, settings.events_days)),
      ...(settings.messages_per_session !== undefined && !perRun
        ? {
            session_id: definition.task_config.session_id ?? record.agent_id,
            messages_per_session: settings.messages_per_session,
          }
        : {}),
      sessions_per_run: perRun,
    };
  });
  const fleetEventsBefore = daysBefore(now, fleet.events_days);
  if (fleetEventsBefore !== undefined) {
    const tags = new Set(records.flatMap((record) => record.definition.tags));
    for (const id of ['fleet:all', ...[...tags].sort().map((tag) => `tag:${tag}`)]) {
      targets.push({ agent_id: id, events_before: fleetEventsBefore, sessions_per_run: false });
    }
  }
  return targets;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
