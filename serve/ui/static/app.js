// The web UI: choose streams, filters and a start; watch the events with
// the browser's EventSource, as any client of /v2/stream does.
//
// The selection lives in the page's URL (?streams=…&wiki=…&since=…), so a
// shared or reloaded URL opens the same view. The position (the last id
// received) is kept in sessionStorage for that selection: a reload resumes
// after it with ?seq=<its seq + 1>, so nothing is missed or repeated.
// While the page runs, EventSource itself resumes with Last-Event-ID when
// the server ends a stream (its maximum duration, a restart).

import { eventItem, toggleJSON } from './render.js';
import { RateChart } from './chart.js';

const $ = (id) => document.getElementById(id);

// BUFFER_LIMIT bounds the events held while paused; when it is reached
// the connection is closed, and resuming reopens it after the last event
// held, so a pause loses nothing however long it lasts.
// (<html data-buffer-limit> lowers it, for the browser tests.)
const BUFFER_LIMIT = 5000;
const bufferLimit = () => Math.min(Number(document.documentElement.dataset.bufferLimit) || BUFFER_LIMIT, BUFFER_LIMIT);
const START_PARAMS = ['since', 'seq'];

const ui = {
  streams: [], // from /v2/streams: {name, aliases, description}
  filters: [], // from /?spec: the stream route's query parameters but since and seq
  es: null,
  running: false,
  paused: false,
  held: false, // paused with a full buffer: the connection is closed
  buffer: [],
  pending: [], // received, not yet on the page
  flushTimer: 0,
  retryTimer: 0,
  retryDelay: 1000,
  epoch: '', // the server's stream instance (ids of another resume by time)
  lastId: '', // the last id received
  shownId: '', // the last id on the page: where a reload resumes
  key: '', // the sessionStorage key of the running selection's position
  total: 0,
  reconnects: 0,
  data: new WeakMap(), // list item → its event's JSON
  chart: null,
};

// ---- what is selected ----

function selectedStreams() {
  return [...document.querySelectorAll('#stream-list input:checked')].map((i) => i.value);
}

function filterValues() {
  const q = new URLSearchParams();
  for (const f of ui.filters) {
    const v = $(`filter-${f.name}`).value.trim();
    if (v) q.set(f.name, v);
  }
  return q;
}

function startParam() {
  const how = document.querySelector('input[name=start]:checked').value;
  const v = how === 'now' ? '' : $(how).value.trim();
  return v ? [how, v] : null;
}

// streamURL is the stream URL of the selection, started as start says
// ([param, value] or null).
function streamURL(start) {
  const q = filterValues();
  if (start) q.set(start[0], start[1]);
  const qs = q.toString().replace(/%2C/gi, ',');
  return `${location.origin}/v2/stream/${selectedStreams().join(',')}${qs ? '?' + qs : ''}`;
}

// positionKey names the selection's saved position in sessionStorage.
const positionKey = () => 'eventstreams-ui:' + selectedStreams().join(',') + '?' + filterValues();

// resumeParam is where to continue after id: the next sequence, when the
// id is of the server's current stream (its epoch, from /readyz, which
// the page reads when it starts), else the id's time, as the server
// resumes a Last-Event-ID of another epoch.
function resumeParam(id) {
  try {
    const [p] = JSON.parse(id);
    if (Number.isSafeInteger(p.seq) && (!ui.epoch || p.epoch === ui.epoch)) return ['seq', String(p.seq + 1)];
    if (Number.isSafeInteger(p.timestamp)) return ['since', String(p.timestamp - 1)];
  } catch {
    /* not an id of ours: start as selected */
  }
  return null;
}

// ---- the page's URL ----

function writeURL() {
  const q = filterValues();
  q.set('streams', selectedStreams().join(','));
  const start = startParam();
  if (start) q.set(start[0], start[1]);
  history.replaceState(null, '', `${location.pathname}?${q.toString().replace(/%2C/gi, ',')}`);
}

function readURL() {
  const q = new URLSearchParams(location.search);
  const want = new Set((q.get('streams') || '').split(',').filter(Boolean));
  for (const box of document.querySelectorAll('#stream-list input')) {
    box.checked = want.has(box.value) || box.dataset.aliases.split(',').some((a) => want.has(a));
  }
  for (const f of ui.filters) $(`filter-${f.name}`).value = q.get(f.name) || '';
  let how = 'now';
  for (const p of START_PARAMS) {
    if (q.get(p)) {
      how = p;
      $(p).value = q.get(p);
    }
  }
  document.querySelector(`input[name=start][value=${how}]`).checked = true;
  return want.size > 0;
}

// ---- the controls ----

function buildStreams() {
  const list = $('stream-list');
  list.replaceChildren();
  for (const s of ui.streams) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = s.name;
    box.dataset.aliases = (s.aliases || []).join(',');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = s.name + (s.aliases?.length ? ` (${s.aliases.join(', ')})` : '');
    const desc = document.createElement('span');
    desc.className = 'desc';
    desc.textContent = s.description || '';
    label.append(box, name, desc);
    list.append(label);
  }
}

function buildFilters() {
  const box = $('filters');
  for (const f of ui.filters) {
    const id = `filter-${f.name}`;
    const wrap = document.createElement('div');
    wrap.className = 'filter';
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = f.name;
    let input;
    if (f.type === 'boolean') {
      input = document.createElement('select');
      for (const [v, t] of [['', 'any'], ['true', 'true'], ['false', 'false']]) input.add(new Option(t, v));
    } else {
      input = document.createElement('input');
      input.type = 'text';
      input.autocomplete = 'off';
      input.spellcheck = false;
    }
    input.id = id;
    const help = document.createElement('span');
    help.className = 'hint';
    help.id = `${id}-help`;
    help.textContent = f.description;
    input.setAttribute('aria-describedby', help.id);
    wrap.append(label, input, help);
    box.append(wrap);
  }
}

function updateSnippets() {
  const url = streamURL(startParam());
  $('snippet-curl').textContent = `curl -N '${url}'`;
  $('snippet-js').textContent = `const es = new EventSource('${url}');
es.onmessage = (e) => {
  const event = JSON.parse(e.data);
  console.log(event.meta.stream, event);
};
// After a disconnect the browser reconnects by itself with Last-Event-ID.`;
}

function setStatus(text, kind = '') {
  const s = $('status');
  s.textContent = text;
  s.className = kind;
}

function setRunning(running) {
  ui.running = running;
  $('run').textContent = running ? 'Restart' : 'Start';
  $('stop').disabled = !running;
  $('pause').disabled = !running;
}

// ---- the connection ----

// start connects as selected; with resume, after the position saved for
// the selection, if any (a reload).
function start(resume = false) {
  const streams = selectedStreams();
  if (!streams.length) {
    setStatus('Choose at least one stream.', 'error');
    return;
  }
  stop(false);
  writeURL();
  $('events').replaceChildren();
  ui.total = 0;
  ui.reconnects = 0;
  ui.chart.reset(streams);
  ui.chart.start();
  ui.key = positionKey();
  ui.lastId = ui.shownId = '';
  const saved = resume && sessionStorage.getItem(ui.key);
  open(saved ? resumeParam(saved) : startParam(), saved);
  setRunning(true);
}

// open connects from start ([param, value] or null).
function open(start, resumedFrom) {
  const url = streamURL(start);
  const es = new EventSource(url);
  ui.es = es;
  setStatus(resumedFrom ? `Connecting, resuming after ${resumedFrom}…` : 'Connecting…');
  es.onopen = () => {
    ui.retryDelay = 1000;
    setStatus(ui.paused ? 'Connected; paused.' : `Connected to ${url.replace(location.origin, '')}`, 'ok');
  };
  es.onmessage = receive;
  es.addEventListener('error', (e) => {
    if (es !== ui.es) return;
    if (e.data) {
      // The server's error event (its feed failed): the stream ends next.
      setStatus(`The server reported an error: ${e.data}`, 'warn');
      return;
    }
    if (es.readyState === EventSource.CONNECTING) {
      ui.reconnects++;
      $('count-reconnects').textContent = String(ui.reconnects);
      setStatus(`Reconnecting… the stream ended (the server's maximum duration, or a restart); it resumes after ${ui.lastId || 'the start'}.`, 'warn');
    } else {
      es.close();
      explain(url);
    }
  });
}

// explain asks the server why it refused the stream: a 4xx (a bad filter
// or time) stops with its message; anything else is retried with backoff
// from the last id.
async function explain(url) {
  let detail = 'the server cannot be reached';
  let fatal = false;
  const abort = new AbortController();
  try {
    const r = await fetch(url, { signal: abort.signal, headers: { Accept: 'application/json' } });
    if (!r.ok) {
      const body = await r.json().catch(() => ({}));
      detail = `${r.status} ${body.title || r.statusText}${body.detail ? ': ' + body.detail : ''}`;
      fatal = r.status >= 400 && r.status < 500 && r.status !== 429;
    } else {
      detail = 'the stream ended';
    }
  } catch {
    /* unreachable */
  } finally {
    abort.abort();
  }
  if (!ui.running) return;
  if (fatal) {
    stop(false);
    setStatus(`Stopped: ${detail}`, 'error');
    return;
  }
  ui.reconnects++;
  $('count-reconnects').textContent = String(ui.reconnects);
  setStatus(`Reconnecting in ${ui.retryDelay / 1000} s: ${detail}.`, 'warn');
  ui.retryTimer = setTimeout(() => {
    if (ui.running && !ui.held) open(ui.lastId ? resumeParam(ui.lastId) : startParam(), ui.lastId);
  }, ui.retryDelay);
  ui.retryDelay = Math.min(ui.retryDelay * 2, 30000);
}

function closeConnection() {
  clearTimeout(ui.retryTimer);
  ui.es?.close();
  ui.es = null;
}

// stop ends the connection; clear forgets the saved position too (the
// next start begins as selected).
function stop(clear = true) {
  closeConnection();
  ui.chart?.stop();
  if (clear && ui.running) sessionStorage.removeItem(ui.key);
  ui.paused = ui.held = false;
  ui.buffer = [];
  $('pause').textContent = 'Pause';
  $('pause').setAttribute('aria-pressed', 'false');
  $('count-waiting').textContent = '0';
  if (ui.running) setStatus('Stopped.');
  setRunning(false);
}

function receive(m) {
  let data;
  try {
    data = JSON.parse(m.data);
  } catch {
    return;
  }
  let seq = null;
  try {
    seq = JSON.parse(m.lastEventId)[0].seq ?? null;
  } catch {
    /* an id without a seq */
  }
  const stream = data.meta?.stream || '?';
  ui.lastId = m.lastEventId;
  ui.total++;
  ui.chart.count(stream);
  const ev = { id: m.lastEventId, seq, stream, data };
  if (ui.paused) {
    ui.buffer.push(ev);
    schedule();
    if (ui.buffer.length >= bufferLimit()) {
      ui.held = true;
      closeConnection();
      setStatus(`Paused with ${ui.buffer.length} events waiting: disconnected until you resume, which continues after the last of them.`, 'warn');
    }
    return;
  }
  show(ev);
}

// show queues an event for the page; the page is updated at most every
// 100 ms (a replay can bring thousands of events a second), and never
// holds more than the events it keeps.
function show(ev) {
  ui.pending.push(ev);
  const cap = Number($('cap').value);
  if (ui.pending.length > 2 * cap) ui.pending.splice(0, ui.pending.length - cap);
  schedule();
}

function schedule() {
  if (!ui.flushTimer) ui.flushTimer = setTimeout(flush, 100);
}

function flush() {
  ui.flushTimer = 0;
  $('count-total').textContent = String(ui.total);
  $('count-waiting').textContent = String(ui.buffer.length);
  $('last-id').textContent = ui.lastId || 'none yet';
  const cap = Number($('cap').value);
  const list = $('events');
  const batch = ui.pending.slice(-cap);
  ui.pending = [];
  const frag = document.createDocumentFragment();
  for (let i = batch.length - 1; i >= 0; i--) {
    const ev = batch[i];
    const li = eventItem(ev, ui.chart.colorIndex(ev.stream));
    ui.data.set(li, ev.data);
    frag.append(li);
  }
  list.prepend(frag);
  while (list.children.length > cap) list.lastElementChild.remove();
  if (batch.length) {
    ui.shownId = batch[batch.length - 1].id;
    sessionStorage.setItem(ui.key, ui.shownId);
  }
}

function togglePause() {
  const btn = $('pause');
  if (!ui.paused) {
    ui.paused = true;
    if (ui.flushTimer) {
      clearTimeout(ui.flushTimer);
      flush();
    }
    btn.textContent = 'Resume';
    btn.setAttribute('aria-pressed', 'true');
    setStatus('Paused: new events wait below the counters; Resume shows them.', 'warn');
    return;
  }
  ui.paused = false;
  btn.textContent = 'Pause';
  btn.setAttribute('aria-pressed', 'false');
  const waiting = ui.buffer;
  ui.buffer = [];
  $('count-waiting').textContent = '0';
  waiting.forEach(show);
  if (ui.held) {
    ui.held = false;
    open(resumeParam(ui.lastId), ui.lastId);
  } else {
    setStatus('Resumed.', 'ok');
  }
}

async function copy(text, btn) {
  try {
    await navigator.clipboard.writeText(text);
    btn.textContent = 'Copied';
  } catch {
    btn.textContent = 'Select and copy';
  }
  setTimeout(() => (btn.textContent = btn.dataset.label || 'Copy'), 1500);
}

// ---- start up ----

async function load() {
  ui.chart = new RateChart($('chart'), $('legend'), $('count-rate'));
  const [streams, spec, ready] = await Promise.all([
    fetch('/v2/streams').then((r) => r.json()),
    fetch('/?spec').then((r) => r.json()),
    fetch('/readyz').then((r) => r.json()).catch(() => ({})),
  ]);
  ui.epoch = ready.epoch || '';
  ui.streams = streams.streams || [];
  const params = spec.paths?.['/v2/stream/{streams}']?.get?.parameters || [];
  ui.filters = params
    .filter((p) => p.in === 'query' && !START_PARAMS.includes(p.name))
    .map((p) => ({ name: p.name, description: p.description || '', type: p.schema?.type }));
  buildStreams();
  buildFilters();
  const autostart = readURL();
  updateSnippets();
  ui.chart.draw();
  if (autostart) start(true);
}

$('controls').addEventListener('submit', (e) => {
  e.preventDefault();
  start();
});
$('controls').addEventListener('input', updateSnippets);
$('controls').addEventListener('change', (e) => {
  updateSnippets();
  if (e.target.id === 'cap') {
    const list = $('events');
    while (list.children.length > Number(e.target.value)) list.lastElementChild.remove();
  }
});
for (const p of START_PARAMS) $(p).addEventListener('focus', () => (document.querySelector(`input[name=start][value=${p}]`).checked = true));
$('stream-search').addEventListener('input', (e) => {
  const q = e.target.value.toLowerCase();
  for (const label of document.querySelectorAll('#stream-list label')) label.hidden = !label.textContent.toLowerCase().includes(q);
});
$('stop').addEventListener('click', () => stop(true));
$('pause').addEventListener('click', togglePause);
$('events').addEventListener('click', (e) => {
  if (e.target.closest('a, .json')) return;
  const li = e.target.closest('li');
  if (li && ui.data.has(li)) toggleJSON(li, ui.data.get(li), copy);
});
for (const b of document.querySelectorAll('button[data-copy]')) {
  b.dataset.label = b.textContent;
  b.addEventListener('click', () => copy($(b.dataset.copy).textContent, b));
}
window.addEventListener('pagehide', () => {
  if (ui.running && ui.shownId) sessionStorage.setItem(ui.key, ui.shownId);
});

load().catch((err) => setStatus(`Could not load the stream list: ${err}`, 'error'));
