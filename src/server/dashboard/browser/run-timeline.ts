import type { Usage } from '../../../storage/contracts/usage.js';
import type { RunReport, TimelineEntry } from '../run-report-types.js';
import { byId, el, type Child } from './dom.js';
import { eventItem, isBadEvent, summarizeEvent } from './event-item.js';
import { formatDuration, formatJson, formatNumber, formatTime } from './format.js';
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

/** A labelled value printed as it is (text) or as JSON. */
export function block(label: string, value: unknown, className: string): HTMLElement[] {
  return [
    el('div', { class: 'label' }, label),
    el('pre', { class: className }, typeof value === 'string' ? value : formatJson(value)),
  ];
}

const facts = (...values: Array<string | null | undefined>) =>
  el('span', { class: 'facts' }, values.filter(Boolean).join(' · '));

const head = (what: string, details: HTMLElement) =>
  el('div', { class: 'head' }, el('span', { class: 'what' }, what), details);

function timelineItem(entry: TimelineEntry, ended: boolean): HTMLElement {
  // A step still "started" in an ended run is where the run stopped (the call failed or was cut off).
  const unfinished =
    entry.kind !== 'event' && entry.state === 'started'
      ? ended
        ? 'never finished'
        : 'in progress'
      : null;
  if (entry.kind === 'model_call') {
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
        ),
      ),
      entry.reply !== null ? block('Reply', entry.reply, 'reply') : null,
    );
  }
  if (entry.kind === 'tool_call') {
    const bad = (entry.outcome && entry.outcome !== 'success') || (unfinished && ended);
    const parts: Child[] = [
      'arguments' in entry ? block('Arguments', entry.arguments, 'arguments') : null,
      'result' in entry ? block('Result', entry.result, 'result') : null,
      entry.error ? el('div', { class: 'error' }, entry.error) : null,
    ];
    return el(
      'li',
      {
        class: 'tool_call' + (bad ? ' bad' : ''),
        'data-kind': 'tool_call',
        'data-step-id': entry.step_id,
      },
      head(
        'Tool call ' + entry.tool_name,
        facts(
          'step ' + entry.step_id,
          formatTime(entry.at),
          unfinished ?? formatDuration(entry.duration_ms),
          entry.outcome,
        ),
      ),
      parts,
    );
  }
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
