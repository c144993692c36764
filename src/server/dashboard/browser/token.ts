import { byId, el } from './dom.js';
import { clearNotice, notify } from './notice.js';

const TOKEN_KEY = 'nightshift-token';
const tokenListeners: Array<() => void> = [];

/** Whether the API needs a token (the page says so; the token itself is never in a page). */
export const tokenRequired = document.body.dataset.tokenRequired === 'true';

/** The token saved for this tab, or '' (kept in sessionStorage: it dies with the tab). */
export function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** Calls listener each time the user saves a token. */
function onToken(listener: () => void): void {
  tokenListeners.push(listener);
}

/** True when the page may call the API: no token is needed, or one is saved. */
export function ready(): boolean {
  return !tokenRequired || Boolean(token());
}

/** Shows the token form (or, with a saved token, a way to forget it) in the header. */
function renderAuth(message?: string): void {
  const auth = byId('auth');
  auth.replaceChildren();
  if (!tokenRequired) return;
  if (token() && !message) {
    const forget = () => {
      sessionStorage.removeItem(TOKEN_KEY);
      renderAuth('Token forgotten.');
    };
    auth.append(
      el('span', { class: 'saved' }, 'Token saved for this tab '),
      el('button', { type: 'button', id: 'token-forget', onclick: forget }, 'Forget'),
    );
    return;
  }
  const input = el('input', {
    type: 'password',
    id: 'token-input',
    name: 'token',
    placeholder: 'API token',
    autocomplete: 'off',
    'aria-label': 'API token',
  });
  const form = el(
    'form',
    { id: 'token-form' },
    input,
    el('button', { type: 'submit', class: 'primary' }, 'Save token'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!input.value) return;
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    renderAuth();
    clearNotice();
    tokenListeners.forEach((listener) => listener());
  });
  auth.append(form);
  notify(message ?? 'Enter the API token to see the fleet.', 'sticky');
  input.focus();
}

/** Runs load now if the page may call the API, and again whenever a token is saved. */
export function whenReady(load: () => void): void {
  onToken(load);
  if (ready()) load();
}

/** Forgets the saved token and asks for one, saying why. */
export function askForToken(message: string): void {
  sessionStorage.removeItem(TOKEN_KEY);
  renderAuth(message);
}

/** The request headers, with the token as a Bearer header when one is saved. */
export function authorizedHeaders(extra: Record<string, string>): Record<string, string> {
  const saved = token();
  return saved ? { ...extra, Authorization: 'Bearer ' + saved } : { ...extra };
}

renderAuth();
