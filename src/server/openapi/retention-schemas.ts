import { z } from 'zod';
import type { PruneReport, RetentionCounts } from '../../service/index.js';
import { describing } from './describing.js';
import { instant } from './run-schemas.js';

/** The body of `POST /api/retention/prune`. */
export const pruneBodySchema = z.strictObject({
  dry_run: z
    .boolean()
    .optional()
    .describe('Count what would be removed, and remove nothing (default false).'),
});

const count = z.number().int().min(0);

const retentionCountsSchema = describing<RetentionCounts>()(
  z.object({
    runs: count.describe('Ended runs, with their steps.'),
    events: count.describe("Events (from the agent's history and the fleet's)."),
    messages: count.describe(
      "Conversation messages beyond a session's newest `messages_per_session`.",
    ),
  }),
);

/** What a prune removed, or would remove. */
export const pruneReportSchema = describing<PruneReport>()(
  z
    .object({
      dry_run: z.boolean(),
      swept_at: instant.describe('When the cutoffs were taken.'),
      totals: retentionCountsSchema,
      agents: z
        .record(z.string(), retentionCountsSchema)
        .describe(
          'Per agent id, only those with something to remove; `fleet:all` and `tag:<tag>` hold the fleet’s and the tags’ own events (budget grants).',
        ),
      complete: z
        .boolean()
        .describe(
          'False when a periodic sweep stopped at its batch budget; a prune goes to the end.',
        ),
    })
    .describe('What retention removed (or, in a dry run, would remove): in all, and per agent.'),
);
