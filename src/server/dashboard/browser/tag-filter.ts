import { api } from './api.js';
import type { AgentView } from './api-types.js';
import { byId, el } from './dom.js';
import { notify, reportFailure } from './notice.js';

// The fleet page's tag filter: a select listing every tag of the fleet, and buttons that pause or
// resume every agent of the tag chosen (`POST /api/tags/:tag/pause|resume`).

const VERBS = { pause: 'paused', resume: 'resumed', run: 'run' } as const;

/**
 * What `POST /api/tags/:tag/pause|resume` answers (the API's `TagActionResult`), as far as this
 * page reads it.
 */
interface TagActionResult {
  tag: string;
  action: keyof typeof VERBS;
  agents: {
    agent_id: string;
    result: 'done' | 'unchanged' | 'refused';
    error: { code: string; message: string } | null;
  }[];
}

/** The tag filter of the fleet page, and its bulk buttons. */
export class TagFilter {
  readonly #select = byId<HTMLSelectElement>('tag-filter');
  readonly #actions = byId('tag-actions');
  readonly #summary = byId('tag-summary');
  readonly #reason = byId<HTMLInputElement>('tag-pause-reason');
  readonly #buttons = [byId<HTMLButtonElement>('tag-pause'), byId<HTMLButtonElement>('tag-resume')];
  /** The tag chosen, kept while the list of tags is built again. */
  #chosen: string;

  /** `changed` runs when another tag is chosen; `done` after a bulk action. */
  constructor(initial: string, changed: (tag: string) => void, done: () => void) {
    this.#chosen = initial;
    this.#select.addEventListener('change', () => {
      this.#chosen = this.#select.value;
      changed(this.#chosen);
    });
    byId('tag-pause').addEventListener('click', () => {
      const reason = this.#reason.value.trim();
      void this.#act('pause', reason ? { reason } : {}, done);
    });
    byId('tag-resume').addEventListener('click', () => void this.#act('resume', {}, done));
  }

  /** The tag chosen; empty for all. */
  get value(): string {
    return this.#chosen;
  }

  /** True for an agent the filter lets through. */
  matches(agent: AgentView): boolean {
    return this.#chosen === '' || (agent.tags ?? []).includes(this.#chosen);
  }

  /** Lists the fleet's tags (and the one chosen, even when no agent has it any more). */
  update(agents: readonly AgentView[]): void {
    const tags = new Set<string>();
    for (const agent of agents) for (const tag of agent.tags ?? []) tags.add(tag);
    if (this.#chosen !== '') tags.add(this.#chosen);
    const sorted = [...tags].sort();
    const listed = [...this.#select.options].map((option) => option.value).slice(1);
    if (listed.join('\n') !== sorted.join('\n')) {
      this.#select.replaceChildren(
        el('option', { value: '' }, 'all'),
        ...sorted.map((tag) => el('option', { value: tag }, tag)),
      );
    }
    this.#select.value = this.#chosen;
    this.#actions.hidden = this.#chosen === '';
    const tagged = agents.filter((agent) => this.matches(agent));
    const paused = tagged.filter((agent) => agent.state === 'paused').length;
    this.#summary.textContent =
      this.#chosen === ''
        ? ''
        : 'Tag ' +
          this.#chosen +
          ': ' +
          tagged.length +
          (tagged.length === 1 ? ' agent' : ' agents') +
          (paused ? ', ' + paused + ' paused' : '');
  }

  async #act(action: 'pause' | 'resume', body: object, done: () => void): Promise<void> {
    const tag = this.#chosen;
    if (tag === '') return;
    for (const button of this.#buttons) button.disabled = true;
    try {
      const result = await api<TagActionResult>(
        'POST',
        '/api/tags/' + encodeURIComponent(tag) + '/' + action,
        body,
      );
      notify(describeResult(result), result.agents.some(refused) ? 'sticky' : 'info');
      if (action === 'pause') this.#reason.value = '';
    } catch (error) {
      reportFailure('Tag ' + tag + ': ', error);
    } finally {
      for (const button of this.#buttons) button.disabled = false;
      done();
    }
  }
}

function refused(agent: TagActionResult['agents'][number]): boolean {
  return agent.result === 'refused';
}

/** What a bulk action did, in a sentence: `nightly: 2 paused, 1 unchanged, 1 refused (…)`. */
function describeResult(result: TagActionResult): string {
  if (result.agents.length === 0) return 'No agent has the tag ' + result.tag + '.';
  const count = (kind: string) => result.agents.filter((agent) => agent.result === kind).length;
  const refusals = result.agents.filter(refused);
  return (
    result.tag +
    ': ' +
    [
      count('done') + ' ' + VERBS[result.action],
      count('unchanged') ? count('unchanged') + ' unchanged' : null,
      refusals.length
        ? refusals.length +
          ' refused (' +
          refusals
            .map((agent) => agent.agent_id + ': ' + (agent.error?.message ?? '?'))
            .join('; ') +
          ')'
        : null,
    ]
      .filter((part) => part !== null)
      .join(', ') +
    '.'
  );
}
