/**
 * The dashboard's shared browser script (plain JavaScript, no build step): the token form,
 * `api()` calls with the Bearer header, event streams read through `fetch` (so the token
 * travels in a header, never in a URL), and DOM building that only ever sets text, so nothing
 * the API returns is parsed as HTML.
 */
export const CLIENT_COMMON_SCRIPT = String.raw`
'use strict';
const TOKEN_KEY = 'nightshift-token';
const Nightshift = (window.Nightshift = {});
Nightshift.tokenRequired = document.body.dataset.tokenRequired === 'true';
Nightshift.token = () => sessionStorage.getItem(TOKEN_KEY) || '';
const tokenListeners = [];
Nightshift.onToken = (listener) => tokenListeners.push(listener);

/** An element with attributes and children; strings become text nodes, never markup. */
Nightshift.el = (tag, attributes, ...children) => {
  const element = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'onclick') element.addEventListener('click', value);
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
};
const el = Nightshift.el;

const notice = document.getElementById('notice');
let noticeTimer;
Nightshift.notify = (message, kind) => {
  notice.textContent = message;
  notice.className = 'notice' + (kind === 'error' ? ' error' : '');
  notice.hidden = false;
  clearTimeout(noticeTimer);
  if (kind !== 'error' && kind !== 'sticky') noticeTimer = setTimeout(() => (notice.hidden = true), 4000);
};
Nightshift.clearNotice = () => (notice.hidden = true);

const auth = document.getElementById('auth');
function renderAuth(message) {
  auth.replaceChildren();
  if (!Nightshift.tokenRequired) return;
  if (Nightshift.token() && !message) {
    auth.append(
      el('span', { class: 'saved' }, 'Token saved for this tab '),
      el('button', { type: 'button', id: 'token-forget', onclick: () => {
        sessionStorage.removeItem(TOKEN_KEY);
        renderAuth('Token forgotten.');
      } }, 'Forget'),
    );
    return;
  }
  const input = el('input', { type: 'password', id: 'token-input', name: 'token', placeholder: 'API token', autocomplete: 'off', 'aria-label': 'API token' });
  const form = el('form', { id: 'token-form' }, input, el('button', { type: 'submit', class: 'primary' }, 'Save token'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!input.value) return;
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    renderAuth();
    Nightshift.clearNotice();
    tokenListeners.forEach((listener) => listener());
  });
  auth.append(form);
  Nightshift.notify(message || 'Enter the API token to see the fleet.', 'sticky');
  input.focus();
}
Nightshift.askForToken = (message) => {
  sessionStorage.removeItem(TOKEN_KEY);
  renderAuth(message);
};
Nightshift.ready = () => !Nightshift.tokenRequired || Boolean(Nightshift.token());
renderAuth();

function headers(extra) {
  const result = Object.assign({}, extra);
  const token = Nightshift.token();
  if (token) result.Authorization = 'Bearer ' + token;
  return result;
}

/** Calls the API; resolves with the JSON body, rejects with the API's error message. */
Nightshift.api = async (method, path, body) => {
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    Nightshift.askForToken('The token was refused; enter it again.');
    throw new Error('unauthorized');
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(data && data.error ? data.error.message : 'HTTP ' + response.status);
  return data;
};

/**
 * Follows a server-sent event stream through fetch, so the token goes in a header. Reconnects
 * with Last-Event-ID after a drop, so no event is lost or shown twice.
 */
Nightshift.stream = (path, onEvent) => {
  const controller = new AbortController();
  const live = document.getElementById('live');
  let lastId = null;
  let closed = false;
  let delay = 1000;
  const setLive = (on, text) => {
    live.className = on ? 'on' : '';
    live.textContent = text;
  };
  const dispatch = (block) => {
    let id = null;
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (id !== null) lastId = id;
    if (data.length === 0) return;
    let event;
    try { event = JSON.parse(data.join('\n')); } catch { return; }
    onEvent(event);
  };
  (async () => {
    while (!closed) {
      try {
        const response = await fetch(path, {
          headers: headers(lastId === null ? { Accept: 'text/event-stream' } : { Accept: 'text/event-stream', 'Last-Event-ID': lastId }),
          signal: controller.signal,
        });
        if (response.status === 401) {
          setLive(false, 'not signed in');
          Nightshift.askForToken('The token was refused; enter it again.');
          return;
        }
        if (!response.ok || !response.body) throw new Error('HTTP ' + response.status);
        setLive(true, 'live');
        delay = 1000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer = (buffer + value).replace(/\r\n?/g, '\n');
          let boundary;
          while ((boundary = buffer.indexOf('\n\n')) >= 0) {
            dispatch(buffer.slice(0, boundary));
            buffer = buffer.slice(boundary + 2);
          }
        }
      } catch (error) {
        if (closed) return;
      }
      setLive(false, 'reconnecting…');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15000);
    }
  })();
  return { close: () => { closed = true; controller.abort(); } };
};

Nightshift.agentPath = (agentId) => '/api/agents/' + encodeURIComponent(agentId);

Nightshift.formatNumber = (value) => (value === null || value === undefined ? '–' : Number(value).toLocaleString('en-US'));
Nightshift.formatDuration = (ms) => {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
};
Nightshift.formatWhen = (iso) => {
  if (!iso) return '–';
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const size = Math.abs(seconds);
  if (size < 2) return 'now';
  const amount = size < 60 ? size + ' s' : size < 3600 ? Math.round(size / 60) + ' min' : size < 172800 ? Math.round(size / 3600) + ' h' : Math.round(size / 86400) + ' d';
  return seconds >= 0 ? 'in ' + amount : amount + ' ago';
};
const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' });
/** A compact local time: the clock alone for today, with the date otherwise. */
Nightshift.formatTime = (iso) => {
  if (!iso) return '–';
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString() ? timeFormat.format(date) : dateTimeFormat.format(date);
};
Nightshift.badge = (kind, value) => el('span', { class: kind + ' ' + kind + '-' + value, 'data-role': kind }, value || '–');

/** The lifecycle buttons that apply to an agent in its state; each calls the API, then done(). */
Nightshift.actionButtons = (agent, done) => {
  const actions = [];
  if (agent.state === 'created' || agent.state === 'stopped') actions.push(['start', 'Start']);
  if (agent.state === 'active') actions.push(['pause', 'Pause']);
  if (agent.state === 'paused') actions.push(['resume', 'Resume']);
  if (agent.state === 'active' || agent.state === 'paused') actions.push(['stop', 'Stop']);
  actions.push(['run', 'Run now']);
  return el('div', { class: 'actions' }, actions.map(([action, label]) => {
    const button = el('button', { type: 'button', 'data-action': action, title: label + ' ' + agent.agent_id }, label);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const result = await Nightshift.api('POST', Nightshift.agentPath(agent.agent_id) + '/' + action, {});
        Nightshift.notify(action === 'run' ? 'Run ' + result.run_id + ' started.' : agent.agent_id + ': ' + result.state + '.');
      } catch (error) {
        if (error.message !== 'unauthorized') Nightshift.notify(agent.agent_id + ': ' + error.message, 'error');
      } finally {
        button.disabled = false;
        done();
      }
    });
    return button;
  }));
};

/** Runs work once things have been quiet for ms, however often it is asked. */
Nightshift.debounce = (work, ms) => {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(work, ms);
  };
};
`;
