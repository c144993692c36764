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

/** An element with attributes and children (nested lists flattened); strings become text nodes, never markup. */
Nightshift.el = (tag, attributes, ...children) => {
  const element = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'onclick') element.addEventListener('click', value);
    else element.setAttribute(name, String(value));
  }
  // Nested lists of children (a map of pairs) are flattened whole.
  for (const child of children.flat(Infinity)) {
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
/** The dashboard page of a run, and a link to it. */
Nightshift.runPage = (runId) => '/runs/' + encodeURIComponent(runId);
Nightshift.runLink = (runId, text, attributes) =>
  el('a', Object.assign({ href: Nightshift.runPage(runId), title: runId }, attributes || {}), text === undefined ? runId : text);

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

/**
 * The lifecycle buttons that apply to an agent in its state; each calls the API, then done().
 * An invalid agent gets none: only an update of its definition makes it runnable again.
 */
Nightshift.actionButtons = (agent, done) => {
  const actions = [];
  if (agent.state === 'created' || agent.state === 'stopped') actions.push(['start', 'Start']);
  if (agent.state === 'active') actions.push(['pause', 'Pause']);
  if (agent.state === 'paused') actions.push(['resume', 'Resume']);
  if (agent.state === 'active' || agent.state === 'paused') actions.push(['stop', 'Stop']);
  if (agent.state !== 'invalid') actions.push(['run', 'Run now']);
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

/** Runs work at most once every ms, however often it is asked (the last ask is never lost). */
Nightshift.throttle = (work, ms) => {
  let timer = null;
  let last = 0;
  return () => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      work();
    }, Math.max(0, last + ms - Date.now()));
  };
};

/** Values as the dashboard prints them: pretty JSON, with undefined spelled out. */
Nightshift.formatJson = (value) => (value === undefined ? 'undefined' : JSON.stringify(value, null, 2));

/** One line about an event, for logs and timelines. */
Nightshift.summarizeEvent = (event) => {
  const payload = event.payload || {};
  const { formatDuration, formatNumber, formatTime } = Nightshift;
  switch (event.type) {
    case 'background_task_started': return payload.trigger + ' run, attempt ' + payload.attempt + ': ' + payload.query;
    case 'user_message': case 'agent_message': case 'final_answer': return payload.message;
    case 'tool_call_started': return payload.tool_name + ' ' + JSON.stringify(payload.tool_args);
    case 'tool_call_result': return payload.tool_name + ' → ' + JSON.stringify(payload.result);
    case 'tool_call_error': return payload.tool_name + ': ' + payload.error;
    case 'run_warning': return payload.code + ': ' + payload.message;
    case 'background_task_completed': return 'completed in ' + formatDuration(payload.duration_ms) + ', ' + formatNumber(payload.usage && payload.usage.total_tokens) + ' tokens';
    case 'background_task_error': return payload.status + ' (' + payload.error.code + '): ' + payload.error.message + (payload.will_retry ? ', will retry' : '');
    case 'background_task_skipped': return 'skipped: ' + payload.reason;
    case 'background_task_missed': return payload.missed + ' missed, last ' + formatTime(payload.last_missed_at);
    case 'background_agent_status': return payload.state + (payload.reason ? ' (' + payload.reason + ')' : '');
    default: return JSON.stringify(payload);
  }
};
Nightshift.isBadEvent = (event) => event.type === 'background_task_error' || event.type === 'tool_call_error' || event.type === 'run_warning';

/**
 * An event as a log line that opens on click (a native <details>, so no handler is needed to
 * toggle it) to show its whole payload; the payload is printed only when first opened, so a
 * long log of large tool results stays light. With runLinks, it links to its run's page.
 */
Nightshift.eventItem = (event, options) => {
  const text = Nightshift.summarizeEvent(event);
  const payload = el('pre', { class: 'payload' });
  const details = el('details', {},
    el('summary', {},
      el('span', { class: 'muted', title: event.timestamp }, Nightshift.formatTime(event.timestamp)),
      el('span', { class: Nightshift.isBadEvent(event) ? 'type bad' : 'type' }, event.type),
      el('span', { class: 'summary', title: text }, text),
      options && options.runLinks && event.run_id ? Nightshift.runLink(event.run_id, 'run ›', { class: 'run-link' }) : el('span')),
    payload);
  details.addEventListener('toggle', () => {
    if (details.open && !payload.textContent) payload.textContent = Nightshift.formatJson(event.payload);
  });
  return el('li', { 'data-event-type': event.type, 'data-event-id': event.id, 'data-run-id': event.run_id || undefined }, details);
};

/** Round ticks from 0 to at least max: steps of 1, 2 or 5 × 10^n, about count of them (whole numbers if integer). */
Nightshift.niceTicks = (max, count, integer) => {
  const top = max > 0 ? max : 1;
  const rough = top / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  let step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough) || rough;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks = [];
  for (let index = 0; index <= Math.ceil(top / step - 1e-9); index += 1) ticks.push(Number((index * step).toPrecision(12)));
  return ticks;
};

const TIME_STEPS_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];
/** Instants (ms) on round local times between start and end, at most about count of them. */
Nightshift.timeTicks = (start, end, count) => {
  const span = Math.max(1, end - start);
  const minutes = TIME_STEPS_MINUTES.find((candidate) => span / (candidate * 60000) <= count) || 1440;
  const step = minutes * 60000;
  const offset = -new Date(start).getTimezoneOffset() * 60000;
  const ticks = [];
  for (let at = Math.ceil((start + offset) / step) * step - offset; at <= end; at += step) ticks.push(at);
  return ticks;
};
const clockFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
Nightshift.formatClock = (ms) => clockFormat.format(new Date(ms));

/**
 * The frame of a chart inside box { width, height, left, right, top, bottom }: horizontal grid
 * lines at the y ticks, the axes, tick labels on both sides and below, and axis titles. Ticks
 * are { at: pixel, label } (x ticks may say anchor: 'start' or 'end' to stay inside the frame).
 */
Nightshift.chartFrame = (box, axes) => {
  const bottom = box.height - box.bottom;
  const right = box.width - box.right;
  const parts = [];
  for (const tick of axes.y || []) {
    parts.push(el('svg:line', { class: 'grid', x1: box.left, x2: right, y1: tick.at, y2: tick.at }));
    parts.push(el('svg:text', { class: 'tick tick-y', x: box.left - 6, y: tick.at + 4, 'text-anchor': 'end' }, tick.label));
  }
  for (const tick of axes.yRight || []) {
    parts.push(el('svg:text', { class: 'tick tick-y-right', x: right + 6, y: tick.at + 4 }, tick.label));
  }
  for (const tick of axes.x || []) {
    parts.push(el('svg:line', { class: 'axis', x1: tick.at, x2: tick.at, y1: bottom, y2: bottom + 4 }));
    parts.push(el('svg:text', { class: 'tick tick-x', x: tick.at, y: bottom + 16, 'text-anchor': tick.anchor || 'middle' }, tick.label));
  }
  parts.push(el('svg:line', { class: 'axis axis-x', x1: box.left, x2: right, y1: bottom, y2: bottom }));
  parts.push(el('svg:line', { class: 'axis axis-y', x1: box.left, x2: box.left, y1: box.top, y2: bottom }));
  if (axes.yRight) parts.push(el('svg:line', { class: 'axis axis-y-right', x1: right, x2: right, y1: box.top, y2: bottom }));
  if (axes.xTitle) parts.push(el('svg:text', { class: 'axis-title', x: (box.left + right) / 2, y: box.height - 2, 'text-anchor': 'middle' }, axes.xTitle));
  if (axes.yTitle) parts.push(el('svg:text', { class: 'axis-title', x: 12, y: (box.top + bottom) / 2, 'text-anchor': 'middle', transform: 'rotate(-90 12 ' + (box.top + bottom) / 2 + ')' }, axes.yTitle));
  if (axes.yRightTitle) parts.push(el('svg:text', { class: 'axis-title', x: box.width - 10, y: (box.top + bottom) / 2, 'text-anchor': 'middle', transform: 'rotate(90 ' + (box.width - 10) + ' ' + (box.top + bottom) / 2 + ')' }, axes.yRightTitle));
  return parts;
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
