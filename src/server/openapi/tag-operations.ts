import type { ComponentName } from './components.js';
import {
  bodyErrors,
  errorResponse,
  jsonResponse,
  ref,
  standardErrors,
  type OperationRow,
  type Parameter,
} from './operation-parts.js';

/** A tag, as definitions write it (`tags: [...]`). */
const tagSchema = { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', minLength: 1, maxLength: 64 };

/** `?tag=`: only the agents whose definition lists this tag. */
export const tagQuery: Parameter = {
  name: 'tag',
  in: 'query',
  description: 'Only the agents whose definition lists this tag (`tags: [...]`).',
  schema: tagSchema,
};

const tagParameter: Parameter = { name: 'tag', in: 'path', required: true, schema: tagSchema };

/** A lifecycle button for every agent with a tag: `POST /api/tags/{tag}/<action>`. */
const byTag = (action: string, summary: string, body: ComponentName): OperationRow => ({
  method: 'post',
  path: `/api/tags/{tag}/${action}`,
  summary,
  description:
    'Applies to every agent whose definition lists the tag, one after another; an agent it does not apply to is `refused` (with why) and the others go on. A tag no agent lists answers an empty list.',
  tag: 'agents',
  parameters: [tagParameter],
  body: { schema: body, required: false },
  responses: {
    '200': jsonResponse('What happened to each agent with the tag.', ref('TagActionResult')),
    '400': errorResponse(
      '`config_invalid`: a bad tag, or an unknown or bad body field (named in `fields`).',
    ),
    ...standardErrors,
    ...bodyErrors,
  },
});

/** Pause, resume and run now every agent with a tag. */
export const TAG_OPERATIONS: readonly OperationRow[] = [
  byTag('pause', 'Pause every agent with the tag, with one note for all', 'PauseBody'),
  byTag('resume', 'Resume every paused agent with the tag', 'EmptyBody'),
  byTag(
    'run',
    'Run every agent with the tag now (each run dispatched, not waited for)',
    'TagRunBody',
  ),
];
