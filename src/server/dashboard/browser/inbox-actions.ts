import { byId, el, replaceChildren } from './dom.js';
import { errorMessage, notify, UNAUTHORIZED } from './notice.js';
import { formatTime, formatWhen } from './format.js';
import { KeyedList } from './keyed-list.js';

// What the inbox's buttons share: who decides (remembered in this browser), the inline error of
// each item, and one way to call the API from a button.

const OPERATOR_KEY = 'nightshift-operator';
const operator = byId<HTMLInputElement>('operator-name');
operator.value = localStorage.getItem(OPERATOR_KEY) ?? '';
operator.addEventListener('input', () => {
  localStorage.setItem(OPERATOR_KEY, operator.value.trim());
});

/** The item's inline error, hidden until an action fails. */
export function errorBox(): HTMLElement {
  return el('div', { class: 'inline-error', role: 'alert', 'data-role': 'error', hidden: true });
}

function showError(item: HTMLElement, message: string): void {
  const box = item.querySelector<HTMLElement>('[data-role="error"]');
  if (!box) return;
  replaceChildren(
    box,
    message,
    // Once its item is gone from the inbox, a person dismisses what they have read.
    item.dataset.gone === 'true' || item.dataset.pinned === 'true'
      ? el(
          'button',
          {
            type: 'button',
            class: 'dismiss',
            'data-action': 'dismiss',
            onclick: () => KeyedList.dismiss(item),
          },
          'Dismiss',
        )
      : null,
  );
  box.hidden = false;
}

function clearError(item: HTMLElement): void {
  const box = item.querySelector<HTMLElement>('[data-role="error"]');
  if (box) {
    box.hidden = true;
    box.replaceChildren();
  }
}

/** What an action does once its button is clicked: resolves with what to tell the person. */
type Action = (by: string) => Promise<string>;

/** A button of an inbox item. */
export interface ActionButton {
  action: string;
  label: string;
  /** The button's accessible name: what it does to which item. */
  describe: string;
  /** Whether the action records who took it (the "Deciding as" name is then required). */
  needsName: boolean;
  primary?: boolean;
  run: Action;
}

/**
 * A button that runs its action for the item it is in: its buttons disabled meanwhile, the
 * API's error (a 409: decided elsewhere already) shown in the item, which then stays until
 * dismissed; done() after the API answered either way (the inbox reads again).
 */
export function actionButton(spec: ActionButton, done: () => void): HTMLButtonElement {
  const button = el(
    'button',
    {
      type: 'button',
      class: spec.primary ? 'primary' : null,
      'data-action': spec.action,
      'aria-label': spec.describe,
      title: spec.describe,
    },
    spec.label,
  );
  button.addEventListener('click', () => {
    const item = button.closest<HTMLElement>('li');
    if (!item || item.dataset.gone === 'true') return;
    const by = operator.value.trim();
    if (spec.needsName && !by) {
      showError(
        item,
        'Enter your name in "Deciding as" first: it is recorded with what you decide.',
      );
      operator.focus();
      return;
    }
    const buttons = [...item.querySelectorAll<HTMLButtonElement>('button[data-action]')];
    buttons.forEach((each) => (each.disabled = true));
    clearError(item);
    spec
      .run(by)
      .then((message) => {
        KeyedList.unpin(item);
        notify(message);
        done();
      })
      .catch((error: unknown) => {
        const message = errorMessage(error);
        if (message === UNAUTHORIZED) return;
        KeyedList.pin(item);
        showError(item, message);
        // Refused because the item changed elsewhere (decided, woken, ended): read what is so now.
        done();
      })
      .finally(() => {
        if (item.dataset.gone !== 'true') buttons.forEach((each) => (each.disabled = false));
      });
  });
  return button;
}

/** An instant as "in 4 h", its local time on hover; kept current by {@link ageTimes}. */
export function when(iso: string | null, role?: string): HTMLElement {
  return el(
    'time',
    { datetime: iso, title: formatTime(iso), 'data-when': iso, 'data-role': role },
    formatWhen(iso),
  );
}

/** Brings every relative time on the page up to now. */
export function ageTimes(): void {
  for (const time of document.querySelectorAll<HTMLElement>('time[data-when]'))
    time.textContent = formatWhen(time.dataset.when);
}
