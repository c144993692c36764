import { z } from 'zod';
import type { AgentDefinition } from './agent-definition.js';

/** Where the service's memory lives, as a Nightshift file says it. */
export const memorySectionSchema = z.strictObject({
  backend: z.enum(['in_memory', 'database', 'redis']).default('database'),
  /** A database or Redis URL; without one, the router's default (`DATABASE_URL`, else the embedded SQLite file). */
  url: z.string().min(1, { error: 'must not be empty' }).optional(),
});

/** Where the event log lives, as a Nightshift file says it. */
export const eventsSectionSchema = z.strictObject({
  backend: z.enum(['in_memory', 'database', 'redis_stream']).default('database'),
  url: z.string().min(1, { error: 'must not be empty' }).optional(),
});

/**
 * The top level of a Nightshift file. Agents are checked one by one afterwards (with the
 * registered tools and providers), so here they are only required to be a list.
 */
export const nightshiftFileSchema = z.strictObject({
  memory: memorySectionSchema.default({ backend: 'database' }),
  events: eventsSectionSchema.default({ backend: 'database' }),
  agents: z.array(z.unknown(), {
    error: (issue) =>
      issue.input === undefined ? 'required' : 'must be a list of agent definitions',
  }),
});

/** The `memory` section with defaults filled in. */
export type MemorySection = z.output<typeof memorySectionSchema>;
/** The `events` section with defaults filled in. */
export type EventsSection = z.output<typeof eventsSectionSchema>;

/** A loaded, validated Nightshift file. */
export interface NightshiftFile {
  /** The file it was read from, as given. */
  path: string;
  memory: MemorySection;
  events: EventsSection;
  /** Every agent, validated, defaults filled in, in file order. */
  agents: AgentDefinition[];
  /** The agents as written (after `${ENV}` interpolation, before defaults), in file order. */
  agentInputs: unknown[];
  /** Values the file read from the environment; never print them (they may be keys or passwords). */
  secrets: string[];
}

/** Only where a Nightshift file keeps its memory and events (what the inspection commands need). */
export type StorageSections = Pick<NightshiftFile, 'path' | 'memory' | 'events' | 'secrets'>;
