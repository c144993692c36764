import { z } from 'zod';
import {
  agentConfigSchema,
  agentObjectSchema,
  modelConfigSchema,
  taskConfigSchema,
} from '../../config/agent-definition.js';
import { pauseInputSchema } from '../../service/index.js';

/** The body of `start` and `resume`: nothing, or `{}`. */
export const emptyBodySchema = z.strictObject({});
/**
 * The body of `pause` (one agent's, or a tag's): why, who, and until when, as the service checks
 * it (which also refuses an `until` not in the future).
 */
export const pauseBodySchema = pauseInputSchema;
/** The body of `stop`: `cancel` also cancels the run in flight. */
export const stopBodySchema = z.strictObject({ cancel: z.boolean().optional() });
/** The body of `run`. */
export const runBodySchema = z.strictObject({
  query: z
    .string()
    .min(1, { error: 'must not be empty' })
    .optional()
    .describe('Replaces task_config.query for this run.'),
  wait: z.boolean().optional().describe('Answer when the run has ended.'),
});

/** The body of `run` by tag: each run is dispatched, not waited for. */
export const tagRunBodySchema = runBodySchema.omit({ wait: true });

/** A field of a patch: left out it stays, `null` removes it (back to its default). */
function removable(schema: z.ZodType): z.ZodType {
  // A patch that leaves a key out keeps its value: the definition's default does not apply.
  const bare = schema instanceof z.ZodDefault ? schema.unwrap() : schema;
  return z.nullable(bare).optional();
}

/** Each field of a nested config removable, the config merged key by key. */
function removableFields(schema: z.ZodObject): z.ZodType {
  const fields = Object.entries(schema.shape).map(([key, field]) => [key, removable(field)]);
  return z.strictObject(Object.fromEntries(fields)).optional();
}

const nested = new Map<string, z.ZodObject>([
  ['model_config', modelConfigSchema],
  ['task_config', taskConfigSchema],
  ['agent_config', agentConfigSchema],
]);

/**
 * `PATCH /api/agents/{agent_id}`, made from the definition's own schema: keys left out stay,
 * `null` removes a key, nested configs merge key by key, lists are replaced, and setting one of
 * interval / cron / run_at replaces the others.
 */
export const agentPatchSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(agentObjectSchema.shape).map(([key, field]) => {
      if (key === 'agent_id')
        return [key, z.string().optional().describe('Only the agent’s own id.')];
      const config = nested.get(key);
      return [key, config ? removableFields(config) : removable(field)];
    }),
  ),
);
