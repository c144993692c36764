import type { AgentView } from './api-types.js';
import { el } from './dom.js';
import { formatTime, formatWhen } from './format.js';

/**
 * Who paused a paused agent and when it resumes by itself, in a few words (`by alice · resumes
 * 18:00:00, in 2 h`), or null when it is not paused or its pause says neither.
 */
export function pauseNoteText(agent: AgentView): string | null {
  if (agent.state !== 'paused') return null;
  // Statuses of older servers lack who and until when.
  const by = agent.paused_by ?? null;
  const until = agent.paused_until ?? null;
  const parts = [
    by === null ? null : 'by ' + by,
    until === null ? null : 'resumes ' + formatTime(until) + ', ' + formatWhen(until),
  ].filter((part) => part !== null);
  return parts.length > 0 ? parts.join(' · ') : null;
}

/** An agent's tags as small labels (`data-role="tags"`), or null for none. */
export function tagLabels(agent: AgentView): HTMLElement | null {
  const tags = agent.tags ?? [];
  if (tags.length === 0) return null;
  return el(
    'div',
    { 'data-role': 'tags' },
    tags.map((tag) => el('span', { class: 'tag', 'data-tag': tag }, tag)),
  );
}
