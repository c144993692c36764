import type { ModelCallEntry, RunReport, ToolCallEntry } from '../run-report-types.js';
import { el, type Child } from './dom.js';
import { clipText, formatJson, formatTime } from './format.js';

// A run's conversation so far, as the inbox shows it beside a decision: the task, what the model
// said and asked for, and what each tool call was given and gave back. The run page has it all.

/** The most characters of one message or value shown (the run page shows more). */
const LONGEST = 2000;

const text = (value: unknown) =>
  clipText(typeof value === 'string' ? value : formatJson(value), LONGEST);

function turn(kind: string, who: string, role: string, ...body: Child[]): HTMLElement {
  return el('li', { class: kind, 'data-role': role }, el('div', { class: 'who' }, who), body);
}

function modelTurn(entry: ModelCallEntry): HTMLElement | null {
  const asked = entry.tool_calls.map((call) => call.tool_name);
  if (entry.reply === null && asked.length === 0) return null;
  return turn(
    'model',
    'Model · ' + formatTime(entry.at),
    'model-turn',
    entry.reply === null ? null : el('div', { class: 'text' }, text(entry.reply)),
    asked.length > 0 ? el('div', { class: 'muted' }, 'asks to call ' + asked.join(', ')) : null,
  );
}

function toolTurn(entry: ToolCallEntry): HTMLElement {
  const waiting = entry.state === 'started' && entry.outcome === null;
  return el(
    'li',
    {
      class: 'tool' + (entry.error ? ' bad' : ''),
      'data-role': 'tool-turn',
      'data-tool-name': entry.tool_name,
    },
    el('div', { class: 'who' }, 'Tool ' + entry.tool_name + ' · ' + formatTime(entry.at)),
    'arguments' in entry ? el('pre', { class: 'arguments' }, text(entry.arguments)) : null,
    'result' in entry ? el('pre', { class: 'result' }, text(entry.result)) : null,
    entry.error ? el('div', { class: 'error-text' }, entry.error) : null,
    waiting && !('result' in entry) ? el('div', { class: 'muted' }, 'no result yet') : null,
  );
}

/** The conversation of a run so far, oldest first: its task, the model's turns, the tool calls. */
export function conversationOf(report: RunReport): HTMLElement {
  const turns: HTMLElement[] = [];
  let task = false;
  for (const entry of report.timeline) {
    if (entry.kind === 'model_call') {
      const item = modelTurn(entry);
      if (item) turns.push(item);
    } else if (entry.kind === 'tool_call') {
      turns.push(toolTurn(entry));
    } else if (entry.kind === 'event' && entry.event.type === 'user_message') {
      task = true;
      turns.push(
        turn(
          '',
          'Task',
          'task-turn',
          el('div', { class: 'text' }, text(entry.event.payload.message)),
        ),
      );
    }
  }
  // The run's events were not read (or are gone from the log): its query is still its task.
  if (!task) {
    turns.unshift(
      turn('', 'Task', 'task-turn', el('div', { class: 'text' }, text(report.run.query))),
    );
  }
  return el('ol', { class: 'conversation', 'data-role': 'conversation-turns' }, turns);
}
