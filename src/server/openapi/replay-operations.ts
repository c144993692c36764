import {
  bodyErrors,
  errorResponse,
  jsonResponse,
  ref,
  runErrors,
  runIdParameter,
  type OperationRow,
} from './operation-parts.js';

/** Replaying a run from its journal, and comparing the replay with it. */
export const REPLAY_OPERATIONS: readonly OperationRow[] = [
  {
    method: 'post',
    path: '/api/runs/{run_id}/replay',
    summary: 'Run an ended run again from its journal, as a new run (`trigger: replay`)',
    description:
      'The agent’s current definition runs on the run’s query and history. With `model: recorded` each model call is answered with the original’s reply, and a call whose request differs (a changed system instruction, history, tools or settings) is marked; with `model: live` the model answers afresh. With `tools: recorded` no tool runs, so no side effect is repeated. The replay runs in this process, outside the schedule; compare it with `GET /api/runs/{run_id}/replay-diff`.',
    tag: 'runs',
    parameters: [runIdParameter],
    body: { schema: 'ReplayBody', required: false },
    responses: {
      '201': jsonResponse(
        'The replay: just started, or ended with `wait: true`; `replay_of` names the original.',
        ref('RunRecord'),
      ),
      '400': errorResponse('`config_invalid`: a bad or unknown body field, named in `fields`.'),
      '409': errorResponse(
        '`invalid_state`: the run has not ended, or was skipped (nothing to replay), or this process runs no agents.',
      ),
      ...bodyErrors,
      ...runErrors,
    },
  },
  {
    method: 'get',
    path: '/api/runs/{run_id}/replay-diff',
    summary: 'A replay (its run id) compared with the run it replays, call by call',
    tag: 'runs',
    parameters: [runIdParameter],
    responses: {
      '200': jsonResponse('The diff.', ref('ReplayDiff')),
      '409': errorResponse('`invalid_state`: the run is not a replay.'),
      ...runErrors,
    },
  },
];
