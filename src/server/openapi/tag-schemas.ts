import { z } from 'zod';
import { ERROR_CODES } from '../../errors.js';
import { TAG_ACTION_RESULTS, TAG_ACTIONS, type TagActionResult } from '../../service/index.js';
import { REPORTED_AGENT_STATES } from '../../storage/contracts/index.js';
import { describing } from './describing.js';
import { runRecordSchema } from './run-schemas.js';

/** What an action by tag (`POST /api/tags/{tag}/pause|resume|run`) did, agent by agent. */
export const tagActionResultSchema = describing<TagActionResult>()(
  z.object({
    tag: z.string(),
    action: z.enum(TAG_ACTIONS),
    agents: z
      .array(
        z.object({
          agent_id: z.string(),
          result: z
            .enum(TAG_ACTION_RESULTS)
            .describe(
              '`done`: applied; `unchanged`: it was so already (a paused agent keeps its own pause and note; an active one stays active); `refused`: it does not apply, `error` says why.',
            ),
          state: z.enum(REPORTED_AGENT_STATES).describe("The agent's state after the action."),
          run: runRecordSchema.nullable().describe('`run`: the run dispatched; null otherwise.'),
          error: z
            .object({ code: z.enum(ERROR_CODES), message: z.string() })
            .nullable()
            .describe('Why it was refused (`invalid_state`: a stopped agent …); null otherwise.'),
        }),
      )
      .describe('Every agent whose definition lists the tag, ordered by id (none: empty).'),
  }),
);
