import type {
  ReplayDiff,
  ReplayDiffRow,
  StepSummary,
} from '../../../service/replay/replay-diff.js';
import type { RunRecord } from '../../../storage/contracts/run-store.js';
import { api } from './api.js';
import { byId, el, replaceChildren, type Child } from './dom.js';
import { clipText, formatJson } from './format.js';
import { errorMessage, notify, reportFailure, UNAUTHORIZED } from './notice.js';
import { isTerminalStatus } from './vocabulary.js';
import { runLink } from './widgets.js';

// The run page's replay panel: on a replay, what it replays and its diff against the original,
// call by call, the first divergence highlighted; on an ended run, a form that replays it.

const runPath = (runId: string) => '/api/runs/' + encodeURIComponent(runId);

/** Renders the panel for `run` (hidden when there is nothing to show). */
export async function renderReplayPanel(run: RunRecord): Promise<void> {
  const panel = byId('run-replay');
  const parts: Child[] = [];
  if (run.replay_of) parts.push(await replayOfPart(run, run.replay_of));
  if (isTerminalStatus(run.status) && run.status !== 'skipped') parts.push(replayForm(run));
  panel.hidden = parts.length === 0;
  replaceChildren(panel, parts);
}

async function replayOfPart(run: RunRecord, originalId: string): Promise<HTMLElement> {
  const mode = run.replay_mode
    ? ' (model ' + run.replay_mode.model + ', tools ' + run.replay_mode.tools + ')'
    : '';
  const head = el(
    'p',
    { 'data-role': 'replay-of' },
    'Replay of ',
    runLink(originalId, originalId, { 'data-role': 'original-link' }),
    el('span', { class: 'muted' }, mode),
  );
  let diff: ReplayDiff;
  try {
    diff = await api<ReplayDiff>('GET', runPath(run.run_id) + '/replay-diff');
  } catch (error) {
    reportFailure('the replay diff: ', error);
    return el('div', {}, head);
  }
  return el('div', { id: 'replay-diff' }, head, diffSummary(diff), diffTable(diff));
}

function diffSummary(diff: ReplayDiff): HTMLElement {
  const first = diff.first_divergence;
  const answer = diff.answer.same ? 'The answer is the same.' : 'The answer differs.';
  return el(
    'p',
    { 'data-role': 'divergence', class: first ? 'diverged' : null },
    first
      ? 'First divergence at #' + first.index + ': ' + first.reason + '. '
      : 'No divergence: the replay made the same calls. ',
    el('span', { class: 'muted', 'data-role': 'answer-same' }, answer),
  );
}

function diffTable(diff: ReplayDiff): HTMLElement {
  const firstIndex = diff.first_divergence?.index;
  const rows = diff.steps.map((row) => diffRow(row, row.index === firstIndex));
  return el(
    'table',
    { class: 'replay-diff', 'data-role': 'diff-table' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { class: 'num' }, '#'),
        el('th', {}, 'Kind'),
        el('th', {}, 'Original'),
        el('th', {}, 'Replay'),
        el('th', {}, ''),
        el('th', {}, 'Differences'),
      ),
    ),
    el(
      'tbody',
      {},
      rows.length > 0
        ? rows
        : el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'Neither run made a call.')),
    ),
  );
}

function diffRow(row: ReplayDiffRow, first: boolean): HTMLElement {
  const classes = [row.same ? 'same' : 'differs', first ? 'first-divergence' : ''];
  return el(
    'tr',
    {
      class: classes.join(' ').trim(),
      'data-index': row.index,
      'data-same': row.same ? 'true' : 'false',
      'data-first': first ? 'true' : null,
    },
    el('td', { class: 'num' }, String(row.index)),
    el('td', {}, row.kind === 'model_call' ? 'model call' : 'tool call'),
    el('td', { class: 'side' }, describeSide(row.original)),
    el('td', { class: 'side' }, describeSide(row.replay)),
    el('td', { class: 'verdict' }, row.same ? 'same' : 'differs'),
    el(
      'td',
      {},
      row.differences.length === 0
        ? ''
        : el(
            'ul',
            { class: 'differences' },
            row.differences.map((text) => el('li', {}, text)),
          ),
    ),
  );
}

/** One side of a row: the step, and its reply and the tools it asked for, or its tool call. */
function describeSide(summary: StepSummary | null): Child {
  if (!summary) return el('span', { class: 'muted' }, '—');
  if ('tool_calls' in summary) {
    const asked = summary.tool_calls.map((call) => call.tool_name).join(', ');
    return [
      el('span', { class: 'muted' }, summary.step_id + ' '),
      summary.text ? clipText(summary.text, 120) : asked ? '' : '(no text)',
      asked ? el('div', { class: 'muted' }, 'asks for ' + asked) : null,
    ];
  }
  const outcome = summary.outcome ?? 'not ended';
  return [
    el('span', { class: 'muted' }, summary.step_id + ' '),
    summary.tool_name,
    el('span', { class: 'muted' }, ' ' + outcome),
    el(
      'div',
      { class: 'muted', title: formatJson(summary.args) },
      clipText(JSON.stringify(summary.args) ?? '', 80),
    ),
  ];
}

/**
 * The form that replays the run, or on a replay the run it replays (a replay of a replay would
 * only compare with the replay): where the replay's replies and tool results come from.
 */
function replayForm(run: RunRecord): HTMLElement {
  const target = run.replay_of ?? run.run_id;
  const choice = (name: 'model' | 'tools', label: string) =>
    el(
      'label',
      {},
      label + ' ',
      el(
        'select',
        { name, 'data-role': 'replay-' + name },
        el('option', { value: 'recorded', selected: true }, 'recorded'),
        el('option', { value: 'live' }, 'live'),
      ),
    );
  const button = el(
    'button',
    { type: 'submit', class: 'primary', 'data-action': 'replay' },
    'Replay',
  );
  const form = el(
    'form',
    { class: 'replay-form', 'data-role': 'replay-form' },
    el('span', { class: 'label' }, run.replay_of ? 'Replay the original again' : 'Replay this run'),
    choice('model', 'model'),
    choice('tools', 'tools'),
    button,
    el(
      'span',
      { class: 'muted' },
      'recorded: from this run’s journal (no request, no tool runs); live: afresh.',
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = (name: string) =>
      form.querySelector<HTMLSelectElement>('select[name="' + name + '"]')?.value ?? 'recorded';
    button.disabled = true;
    api<RunRecord>('POST', runPath(target) + '/replay', {
      model: value('model'),
      tools: value('tools'),
    })
      .then((replay) => {
        notify('Replay ' + replay.run_id + ' started.');
        window.location.assign('/runs/' + encodeURIComponent(replay.run_id));
      })
      .catch((error: unknown) => {
        const message = errorMessage(error);
        if (message !== UNAUTHORIZED) notify('Replay of ' + target + ': ' + message, 'error');
        button.disabled = false;
      });
  });
  return form;
}
