import type { AgentDefinition } from '../config/agent-definition.js';
import { createSchedule, type ScheduleSpec } from '../schedule/index.js';

/** A duration in seconds as people say it: `5 s`, `5 min`, `2 h`, `90 s`. */
export function formatSeconds(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** An agent's schedule in a few words: `every 5 min, at most 3 runs`, `cron "0 9 * * *" (Europe/Paris)`. */
export function describeSchedule(definition: AgentDefinition): string {
  const parts: string[] = [];
  if (definition.interval !== undefined) parts.push(`every ${formatSeconds(definition.interval)}`);
  if (definition.cron !== undefined)
    parts.push(`cron "${definition.cron}" (${definition.timezone ?? 'UTC'})`);
  if (definition.run_at !== undefined) parts.push(`once at ${definition.run_at}`);
  if (definition.start_at !== undefined) parts.push(`from ${definition.start_at}`);
  if (definition.end_at !== undefined) parts.push(`until ${definition.end_at}`);
  if (definition.max_runs !== undefined)
    parts.push(`at most ${definition.max_runs} run${definition.max_runs === 1 ? '' : 's'}`);
  if (definition.jitter > 0) parts.push(`jitter ${formatSeconds(definition.jitter)}`);
  if (definition.run_immediately) parts.push('first run at start');
  return parts.join(', ');
}

/**
 * The next `count` fire times of a definition if its agent were started at `now` (interval
 * schedules count from the moment an agent starts).
 */
export function nextFireTimes(definition: AgentDefinition, now: Date, count: number): Date[] {
  const spec: ScheduleSpec = {};
  for (const key of ['interval', 'cron', 'timezone', 'run_at', 'start_at', 'end_at'] as const) {
    const value = definition[key];
    if (value !== undefined) Object.assign(spec, { [key]: value });
  }
  return createSchedule(spec, { anchor: now }).nextN(now, count);
}
