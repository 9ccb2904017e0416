// The vet-analytics web console: plain JavaScript against the HTTP/JSON
// gateway of the same origin (docs/openapi.yaml). The practice id and API key
// live in sessionStorage (this tab only) and travel in the x-api-key header,
// never in a URL. Text from the server is only ever set as textContent.
'use strict';

const SUGGESTIONS = [
  'What was our revenue trend last quarter?',
  'Revenue by month this year',
  'Top 5 services by revenue last month',
  'What was our no-show rate last month?',
  'Which vet had the most completed appointments last quarter?',
  'How many new clients did we get this year?',
  'Revenue from cats versus dogs this year',
  'Average transaction charge by month in 2025',
];

const FRIENDLY = {
  UNAUTHENTICATED: 'The API key was not accepted. Check it, then sign in again.',
  PERMISSION_DENIED: 'This key is not valid for this practice.',
  RESOURCE_EXHAUSTED: 'A limit was reached.',
  INVALID_ARGUMENT: 'The question could not be answered as asked.',
  NOT_FOUND: 'Not found.',
  UNAVAILABLE: 'The service is busy or unavailable. Try again in a moment.',
  DEADLINE_EXCEEDED: 'The question took too long to compute.',
  FAILED_PRECONDITION: 'The practice is not set up for this.',
  CANCELLED: 'The question was cancelled.',
  INTERNAL: 'Something went wrong on the server.',
};

const $ = (id) => document.getElementById(id);
let sessionId = '';
let budgetCache = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function credentials() {
  return { practice: sessionStorage.getItem('vet.practice') || '',
           key: sessionStorage.getItem('vet.key') || '' };
}

function headers() {
  const { practice, key } = credentials();
  return { 'x-api-key': key, 'x-practice-id': practice };
}

function money(micros) {
  const usd = Number(micros || 0) / 1e6;
  return '$' + usd.toLocaleString('en-US', { minimumFractionDigits: usd < 1 && usd > 0 ? 4 : 2,
                                             maximumFractionDigits: usd < 1 && usd > 0 ? 4 : 2 });
}

// An Error carrying the gateway's JSON error ({code, message, details}).
class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function apiError(response) {
  try {
    const body = await response.json();
    return new ApiError(body.code || 'UNKNOWN', body.message || response.statusText, response.status);
  } catch (e) {
    return new ApiError('UNKNOWN', `HTTP ${response.status} ${response.statusText}`, response.status);
  }
}

async function api(method, path, params) {
  const query = new URLSearchParams({ practice_id: credentials().practice, ...(params || {}) });
  let response;
  try {
    response = await fetch(`${path}?${query}`, { method, headers: headers() });
  } catch (e) {
    throw new ApiError('UNAVAILABLE', 'Cannot reach the server: check the network.', 0);
  }
  if (!response.ok) throw await apiError(response);
  return response.json();
}

function showError(target, error, context) {
  const box = $(target);
  box.replaceChildren();
  if (!error) { box.hidden = true; return; }
  const code = error.code || 'UNKNOWN';
  let title = FRIENDLY[code] || 'The request failed.';
  if (code === 'RESOURCE_EXHAUSTED' && /budget|cap/i.test(error.message)) {
    title = 'The budget for this period is used up.';
  }
  box.append(el('strong', { text: (context ? context + ': ' : '') + title }),
             el('span', { text: error.message }),
             el('span', { class: 'muted', text: ` (${code})` }));
  box.hidden = false;
  if (code === 'UNAUTHENTICATED' && target === 'error') {
    box.append(el('div', {}, el('button', { type: 'button', class: 'link', id: 'reauth' },
                                'Sign in again')));
    $('reauth').addEventListener('click', signOut);
  }
  box.focus?.();
}

// ---- sign in ----

async function signIn(event) {
  event.preventDefault();
  sessionStorage.setItem('vet.practice', $('practice-id').value.trim());
  sessionStorage.setItem('vet.key', $('api-key').value);
  $('api-key').value = '';
  try {
    await api('GET', '/v1/budget');
  } catch (e) {
    sessionStorage.removeItem('vet.key');
    showError('sign-in-error', e, 'Sign-in failed');
    return;
  }
  showError('sign-in-error', null);
  enterApp();
}

function signOut() {
  sessionStorage.removeItem('vet.key');
  sessionStorage.removeItem('vet.practice');
  sessionId = '';
  $('turns').replaceChildren();
  $('app').hidden = true;
  $('who').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  showError('error', null);
  $('practice-id').focus();
}

function enterApp() {
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('who').textContent = `Practice: ${credentials().practice}`;
  $('who').hidden = false;
  $('sign-out').hidden = false;
  refreshBudget();
  refreshSessions();
  $('question').focus();
}

// ---- budget ----

async function refreshBudget() {
  try {
    renderBudget(await api('GET', '/v1/budget'));
  } catch (e) {
    $('budget').textContent = `The budget could not be read: ${e.message}`;
  }
}

function renderBudget(b) {
  budgetCache = b;
  const limit = Number(b.limitMicros || 0);
  const spent = Number(b.spentMicros || 0);
  const share = limit > 0 ? Math.min(1, spent / limit) : 0;
  const fill = el('div', { class: 'fill' + (b.hardCapReached ? ' hard' : b.softCapReached ? ' soft' : '') });
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  const gauge = el('div', { class: 'gauge', role: 'meter', 'aria-valuemin': '0',
                            'aria-valuemax': String(limit), 'aria-valuenow': String(spent),
                            'aria-label': `Spent ${money(spent)} of ${money(limit)}` }, fill);
  for (const cap of [b.softCap, b.hardCap]) {
    if (cap > 0 && cap < 1) {
      const mark = el('div', { class: 'mark' });
      mark.style.left = `${(cap * 100).toFixed(1)}%`;
      gauge.append(mark);
    }
  }
  const resets = b.resetsAt ? new Date(b.resetsAt).toLocaleDateString(undefined,
      { year: 'numeric', month: 'long', day: 'numeric' }) : '—';
  const fact = (name, value) => el('div', {}, el('dt', { text: name }), el('dd', { text: value }));
  const facts = el('dl', { class: 'budget-facts' },
    fact('Spent', money(spent)),
    fact('Reserved', money(b.reservedMicros)),
    fact('Soft cap', `${money(limit * (b.softCap || 0))} (${Math.round((b.softCap || 0) * 100)}%)`),
    fact('Hard cap', `${money(limit * (b.hardCap || 0))} (${Math.round((b.hardCap || 0) * 100)}%)`),
    fact('Resets', resets));
  const state = b.hardCapReached ? el('p', { class: 'warning', text: 'Hard cap reached: only the free offline planner still answers.' })
              : b.softCapReached ? el('p', { class: 'warning', text: 'Soft cap reached: cheaper models are used.' }) : null;
  $('budget').replaceChildren(gauge, facts, state || '');
}

// ---- sessions ----

async function refreshSessions() {
  const list = $('sessions');
  try {
    const r = await api('GET', '/v1/sessions', { page_size: '20' });
    list.replaceChildren();
    for (const s of r.sessions || []) {
      const when = s.lastActiveAt ? new Date(s.lastActiveAt).toLocaleString() : '';
      // ListSessions may leave the turns out: then the start time names it.
      const started = s.createdAt ? new Date(s.createdAt).toLocaleString() : '';
      const first = s.turns && s.turns.length ? s.turns[0].question
                                              : `Conversation started ${started}`;
      const open = el('button', { type: 'button', class: 'link' }, first);
      open.addEventListener('click', () => openSession(s.sessionId));
      const item = el('li', { class: s.sessionId === sessionId ? 'current' : '' }, open,
                      el('div', { class: 'muted', text: `last active ${when} · ${money(s.totalCostMicros)}${s.sessionId === sessionId ? ' · current' : ''}` }));
      list.append(item);
    }
    if (!list.children.length) list.append(el('li', { class: 'muted', text: 'No conversations yet.' }));
  } catch (e) {
    list.replaceChildren(el('li', { class: 'error', text: `The conversations could not be read: ${e.message}` }));
  }
}

async function openSession(id) {
  showError('error', null);
  try {
    const s = await api('GET', `/v1/sessions/${encodeURIComponent(id)}`);
    sessionId = s.sessionId;
    const turns = $('turns');
    turns.replaceChildren();
    for (const t of s.turns || []) {
      const li = el('li', { class: 'turn' }, el('h3', { text: t.question }));
      if (t.answer) li.append(el('p', { class: 'answer', text: t.answer }));
      if (t.summary) li.append(el('p', { class: 'muted', text: t.summary }));
      li.append(el('p', { class: 'muted', text: `${t.status} · ${money(t.costMicros)}` }));
      if (t.code) li.append(el('details', {}, el('summary', { text: 'Code' }), el('pre', { text: t.code })));
      turns.append(li);
    }
    const end = el('button', { type: 'button', id: 'end-session' }, 'End this conversation');
    end.addEventListener('click', () => endSession(id));
    turns.append(el('li', {}, end));
    setSessionLine();
    refreshSessions();
    $('question').focus();
  } catch (e) {
    showError('error', e, 'The conversation could not be opened');
  }
}

async function endSession(id) {
  try {
    await api('DELETE', `/v1/sessions/${encodeURIComponent(id)}`);
  } catch (e) {
    showError('error', e, 'The conversation could not be ended');
    return;
  }
  newSession();
  refreshSessions();
}

function newSession() {
  sessionId = '';
  $('turns').replaceChildren();
  showError('error', null);
  setSessionLine();
  $('question').focus();
}

function setSessionLine() {
  $('session-line').textContent = sessionId
    ? 'Follow-up questions continue this conversation (they may refer to the answers above).'
    : 'A new conversation starts with your next question.';
}

// ---- asking ----

// Server-sent events from a POST: {event, data} objects as they arrive.
async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let at;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) yield { event, data: JSON.parse(data.join('\n')) };
    }
  }
}

function base64Bytes(b64) {
  const bin = atob(b64 || '');
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function cellText(cell, column) {
  if (cell.number !== undefined) {
    const n = Number(cell.number);
    if (column.unit === 'USD') return n.toLocaleString('en-US', { style: 'currency', currency: 'USD' });
    if (column.unit === 'percent') return `${n.toLocaleString('en-US', { maximumFractionDigits: 1 })}%`;
    return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }
  if (cell.integer !== undefined) return Number(cell.integer).toLocaleString('en-US');
  if (cell.text !== undefined) return cell.text;
  if (cell.bool !== undefined) return cell.bool ? 'yes' : 'no';
  return '—';
}

function renderTable(table) {
  const numeric = (c) => ['NUMBER', 'INTEGER'].includes(c.type);
  const head = el('tr', {}, ...table.columns.map((c) => el('th', { scope: 'col',
      text: c.unit && !['month', 'count'].includes(c.unit) ? `${c.name} (${c.unit})` : c.name })));
  const rows = (table.rows || []).map((r) => el('tr', {}, ...table.columns.map((c, i) =>
      el('td', { class: numeric(c) ? 'num' : '', text: cellText((r.cells || [])[i] || {}, c) }))));
  const wrap = el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)));
  if (table.truncated) {
    wrap.append(el('p', { class: 'muted', text:
      `Showing ${Number(table.includedRows)} of ${Number(table.totalRows)} rows.` }));
  }
  return wrap;
}

function renderExplanation(x) {
  if (!x || !x.metric) return null;
  const dl = el('dl', { class: 'explanation' });
  const add = (name, value) => { if (value) dl.append(el('dt', { text: name }), el('dd', { text: value })); };
  for (const w of x.warnings || []) dl.append(el('dd', { class: 'warning', text: `Warning: ${w}` }));
  add('Metric', x.metric);
  add('Definition', x.definition);
  add('Period', x.period && x.period.text);
  add('Compared with', x.compared && x.compared.text);
  add('Filters', (x.filters || []).join('; '));
  add('Counted', x.counted);
  add('Left out', (x.excluded || []).join('; '));
  add('Notes', (x.notes || []).join('; '));
  return el('details', { open: '' }, el('summary', { text: 'How this was computed' }), dl);
}

function renderResult(result) {
  if (!result) return null;
  if (result.table) return renderTable(result.table);
  if (result.number !== undefined) {
    return el('p', { class: 'answer', text: `${Number(result.number).toLocaleString('en-US')} ${result.unit || ''}` });
  }
  if (result.text !== undefined) return el('p', { text: result.text });
  return null;
}

async function ask(event) {
  event.preventDefault();
  const question = $('question').value.trim();
  if (!question) return;
  showError('error', null);
  const turn = el('li', { class: 'turn' }, el('h3', { text: question }));
  const progress = el('ul', { class: 'progress' });
  turn.append(progress);
  const old = document.getElementById('end-session');
  if (old) old.parentElement.remove();
  $('turns').append(turn);
  $('ask').disabled = true;
  $('asking').textContent = 'Working on it…';
  const parts = {};
  let output = null;
  try {
    let response;
    try {
      response = await fetch('/v1/ask', {
        method: 'POST',
        headers: { ...headers(), 'content-type': 'application/json' },
        body: JSON.stringify({ practiceId: credentials().practice, question, sessionId }),
      });
    } catch (e) {
      throw new ApiError('UNAVAILABLE', 'Cannot reach the server: check the network.', 0);
    }
    if (!response.ok) throw await apiError(response);
    let ended = false;
    for await (const { event: kind, data } of readEvents(response)) {
      if (kind === 'end') { ended = true; break; }
      if (kind === 'error') throw new ApiError(data.code, data.message, 200);
      if (data.sessionStarted) {
        sessionId = data.sessionStarted.sessionId;
        setSessionLine();
        progress.append(el('li', { text: data.sessionStarted.resumed
          ? `Follow-up (question ${data.sessionStarted.turn}), as of ${data.sessionStarted.asOfDate}`
          : `New conversation, as of ${data.sessionStarted.asOfDate}` }));
      } else if (data.budgetCheck) {
        const b = data.budgetCheck;
        progress.append(el('li', { class: b.allowed ? '' : 'refused', text: b.allowed
          ? `Budget check: allowed (${b.model}; up to ${money(b.estimateMicros)}; ${money(b.remainingMicros)} left)`
          : `Budget check: refused. ${b.message}` }));
      } else if (data.codeGenerated) {
        const c = data.codeGenerated;
        progress.append(el('li', {}, `Code written by the ${c.generator}${c.summary ? `: ${c.summary}` : ''}`,
          el('details', {}, el('summary', { text: 'Show the code' }), el('pre', { text: c.code }))));
      } else if (data.executionOutput) {
        if (!output) {
          output = el('pre', {});
          progress.append(el('li', {}, el('details', {}, el('summary', { text: 'Output' }), output)));
        }
        output.textContent += data.executionOutput.text;
      } else if (data.retry) {
        progress.append(el('li', { text: `Retrying (attempt ${data.retry.attempt}): ${data.retry.reason}` }));
      } else if (data.artifact) {
        const a = data.artifact;
        const p = parts[a.name] || (parts[a.name] = { chunks: [], size: 0, mime: a.mimeType });
        const bytes = base64Bytes(a.data);
        p.chunks.push(bytes);
        p.size += bytes.length;
        const total = Number(a.totalBytes || 0);
        if (total === 0 || p.size >= total) {
          const url = URL.createObjectURL(new Blob(p.chunks, { type: p.mime }));
          if (p.mime === 'image/png') {
            turn.append(el('img', { class: 'chart', src: url, alt: `Chart for: ${question}` }));
          } else {
            turn.append(el('p', {}, el('a', { href: url, download: a.name }, `Download ${a.name}`)));
          }
        }
      } else if (data.finalAnswer) {
        const f = data.finalAnswer;
        turn.append(el('p', { class: 'answer', text: f.text }));
        const result = renderResult(f.result);
        if (result) turn.append(result);
        const how = renderExplanation(f.explanation);
        if (how) turn.append(how);
        turn.append(el('p', { class: 'muted', text: `Cost: ${money(f.totalCostMicros)}` }));
      }
    }
    if (!ended) throw new ApiError('UNAVAILABLE', 'The answer was cut off before it ended.', 0);
    $('question').value = '';
  } catch (e) {
    turn.append(el('p', { class: 'muted', text: 'No answer.' }));
    showError('error', e, 'Your question');
  } finally {
    $('ask').disabled = false;
    $('asking').textContent = '';
    refreshBudget();
    refreshSessions();
  }
}

function init() {
  const list = $('suggestions');
  for (const s of SUGGESTIONS) {
    const b = el('button', { type: 'button' }, s);
    b.addEventListener('click', () => { $('question').value = s; $('question').focus(); });
    list.append(el('li', {}, b));
  }
  $('sign-in-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', signOut);
  $('ask-form').addEventListener('submit', ask);
  $('new-session').addEventListener('click', newSession);
  // Enter asks; Shift+Enter makes a new line.
  $('question').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('ask-form').requestSubmit(); }
  });
  $('error').tabIndex = -1;
  $('sign-in-error').tabIndex = -1;
  const { practice, key } = credentials();
  $('practice-id').value = practice;
  if (practice && key) enterApp();
  else $('practice-id').focus();
}

document.addEventListener('DOMContentLoaded', init);
