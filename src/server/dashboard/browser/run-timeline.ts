import type { Usage } from '../../../storage/contracts/usage.js';
import type {
  ModelCallEntry,
  ResumeEntry,
  RunReport,
  TimelineEntry,
  ToolCallEntry,
} from '../run-report-types.js';
import { byId, el, type Child } from './dom.js';
import { eventItem, isBadEvent, summarizeEvent } from './event-item.js';
import {
  clipText,
  formatDuration,
  formatJson,
  formatNumber,
  formatTime,
  formatUsd,
} from './format.js';
import { isTerminalStatus } from './vocabulary.js';

const tokens = (usage: Usage | null) =>
  usage
    ? formatNumber(usage.total_tokens) +
      ' (' +
      formatNumber(usage.input_tokens) +
      ' in, ' +
      formatNumber(usage.output_tokens) +
      ' out)'
    : '–';

/** The most characters of one value the timeline prints (the report and the events hold all of it). */
const LONGEST_VALUE = 4000;

/** A labelled value printed as it is (text) or as JSON, cut to `limit` characters when given. */
export function block(
  label: string,
  value: unknown,
  className: string,
  limit?: number,
): HTMLElement[] {
  const text = typeof value === 'string' ? value : formatJson(value);
  return [
    el('div', { class: 'label' }, label),
    el('pre', { class: className }, limit === undefined ? text : clipText(text, limit)),
  ];
}

/** What the timeline says of a call a resumed run did not run again. */
const UNKNOWN_OUTCOME = 'not run again: outcome unknown';

const plural = (count: number, noun: string) => count + ' ' + noun + (count === 1 ? '' : 's');

const facts = (...values: Array<string | null | undefined>) =>
  el('span', { class: 'facts' }, values.filter(Boolean).join(' · '));

const head = (what: string, details: HTMLElement) =>
  el('div', { class: 'head' }, el('span', { class: 'what' }, what), details);

/** A step still "started" in an ended run is where the run stopped (the call failed or was cut off). */
function unfinishedLabel(entry: ModelCallEntry | ToolCallEntry, ended: boolean): string | null {
  if (entry.state !== 'started') return null;
  return ended ? 'never finished' : 'in progress';
}

function modelCallItem(entry: ModelCallEntry, ended: boolean): HTMLElement {
  const unfinished = unfinishedLabel(entry, ended);
  const calls = entry.tool_calls.map((call) => call.tool_name);
  return el(
    'li',
    {
      class: 'model_call' + (unfinished && ended ? ' bad' : ''),
      'data-kind': 'model_call',
      'data-step-id': entry.step_id,
    },
    head(
      'Model call',
      facts(
        'step ' + entry.step_id,
        formatTime(entry.at),
        unfinished ?? formatDuration(entry.duration_ms),
        entry.finish_reason ? 'finish: ' + entry.finish_reason : null,
        entry.usage ? tokens(entry.usage) + ' tokens' : null,
        entry.usage?.cost_usd === undefined ? null : formatUsd(entry.usage.cost_usd),
      ),
    ),
    entry.reply !== null ? block('Reply', entry.reply, 'reply', LONGEST_VALUE) : null,
    calls.length > 0
      ? el('div', { class: 'calls', 'data-role': 'tool-calls' }, 'Calls ' + calls.join(', '))
      : null,
  );
}

function toolCallItem(entry: ToolCallEntry, ended: boolean): HTMLElement {
  const unfinished = unfinishedLabel(entry, ended);
  const unknown = entry.outcome === 'unknown_outcome';
  const bad = (entry.outcome && entry.outcome !== 'success') || (unfinished && ended);
  const cut = entry.result_cut
    ? el(
        'div',
        { class: 'note', 'data-role': 'result-cut' },
        'Cut when stored: ' +
          formatNumber(entry.result_cut.cap_chars) +
          ' of ' +
          formatNumber(entry.result_cut.original_chars) +
          ' characters kept.',
      )
    : null;
  const parts: Child[] = [
    'arguments' in entry ? block('Arguments', entry.arguments, 'arguments', LONGEST_VALUE) : null,
    // A call not run again has no result of its own: what the model was told repeats the error.
    'result' in entry && !unknown ? block('Result', entry.result, 'result', LONGEST_VALUE) : null,
    cut,
    entry.error ? el('div', { class: 'error' }, entry.error) : null,
  ];
  return el(
    'li',
    {
      class: 'tool_call' + (bad ? ' bad' : '') + (unknown ? ' unknown' : ''),
      'data-kind': 'tool_call',
      'data-step-id': entry.step_id,
      'data-outcome': entry.outcome ?? undefined,
    },
    head(
      'Tool call ' + entry.tool_name,
      facts(
        'step ' + entry.step_id,
        formatTime(entry.at),
        unfinished ?? formatDuration(entry.duration_ms),
        unknown ? null : entry.outcome,
        entry.idempotent ? 'idempotent' : null,
      ),
    ),
    // It may or may not have taken effect: the page says so where it cannot be missed.
    unknown ? el('div', { class: 'outcome', 'data-role': 'outcome' }, UNKNOWN_OUTCOME) : null,
    parts,
  );
}

/** The marker of an attempt that went on from the run's journal. */
function resumeItem(entry: ResumeEntry): HTMLElement {
  const from =
    entry.resumed_from === null
      ? 'resumed with no step recorded before'
      : 'resumed from step ' + entry.resumed_from;
  const counts =
    entry.skipped_model_calls === null
      ? []
      : [
          plural(entry.skipped_model_calls, 'model call') + ' answered from the journal',
          plural(entry.unknown_outcome_calls ?? 0, 'tool call') + ' not run again',
        ];
  return el(
    'li',
    { class: 'resume', 'data-kind': 'resume', 'data-step-id': entry.step_id },
    head('Resumed', facts('step ' + entry.step_id, formatTime(entry.at))),
    el(
      'div',
      { 'data-role': 'resume-summary' },
      ['Attempt ' + entry.attempt + ' ' + from, ...counts].join(' · '),
    ),
  );
}

function timelineItem(entry: TimelineEntry, ended: boolean): HTMLElement {
  if (entry.kind === 'model_call') return modelCallItem(entry, ended);
  if (entry.kind === 'tool_call') return toolCallItem(entry, ended);
  if (entry.kind === 'resume') return resumeItem(entry);
  const { event } = entry;
  if (event.type === 'background_task_started') {
    return el(
      'li',
      { class: 'attempt-divider', 'data-kind': 'attempt' },
      'Attempt ' + event.payload.attempt + ' · ' + formatTime(event.timestamp),
    );
  }
  const bad = isBadEvent(event);
  return el(
    'li',
    { class: 'event' + (bad ? ' bad' : ''), 'data-kind': 'event', 'data-event-type': event.type },
    head(event.type, facts(formatTime(event.timestamp))),
    el('div', { class: bad ? 'error' : '' }, summarizeEvent(event)),
  );
}

/** The run's steps and events in the order they happened. */
export function renderTimeline(report: RunReport): void {
  const ended = isTerminalStatus(report.run.status);
  const items = report.timeline.map((entry) => timelineItem(entry, ended));
  byId('timeline').replaceChildren(
    ...(items.length > 0
      ? items
      : [el('li', { class: 'attempt-divider' }, 'Nothing happened in this run.')]),
  );
}

/** The run's events, each opening on click to its payload. */
export function renderEvents(report: RunReport): void {
  const list = byId('run-events');
  const note = byId('events-note');
  if (report.events === null) {
    note.textContent = 'The events of this run were not read.';
    list.replaceChildren();
    return;
  }
  note.textContent = report.events_complete
    ? report.events.length + ' events · click one for its payload'
    : 'The first ' + report.events.length + ' events (the run has more than one read holds).';
  list.replaceChildren(
    ...(report.events.length > 0
      ? report.events.map((event) => eventItem(event))
      : [
          el(
            'li',
            { class: 'empty' },
            'No events of this run are in the event log (it keeps the newest ones).',
          ),
        ]),
  );
}
