import {
  bodyErrors,
  errorResponse,
  jsonResponse,
  ref,
  standardErrors,
  type OperationRow,
} from './operation-parts.js';

/** Retention on demand: what would go, and removing it. */
export const RETENTION_OPERATIONS: readonly OperationRow[] = [
  {
    method: 'post',
    path: '/api/retention/prune',
    summary:
      'Apply retention now: ended runs past `runs_days`, events past `events_days`, messages beyond `messages_per_session` (or, with `dry_run`, count them)',
    description:
      "Each agent's `retention` applies over the fleet-wide `retention:` of the server's Nightshift file. Unfinished runs are never removed. Managers also sweep every few minutes, a bounded batch at a time; a prune goes to the end, alongside them.",
    tag: 'operations',
    body: { schema: 'PruneBody', required: false },
    responses: {
      '200': jsonResponse(
        'What was removed, or would be: in all and per agent.',
        ref('PruneReport'),
      ),
      '400': errorResponse('`config_invalid`: a bad or unknown body field, named in `fields`.'),
      ...bodyErrors,
      ...standardErrors,
    },
  },
];
