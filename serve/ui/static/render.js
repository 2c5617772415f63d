// One readable line per event, by the kind of its stream, with its JSON
// behind a toggle. Every value from an event goes into the page as text
// (textContent), never as HTML; links are followed only to http(s) URLs.

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null && text !== '') e.textContent = String(text);
  return e;
};

// safeURL is u when it is an http(s) URL, else ''.
const safeURL = (u) => {
  try {
    const p = new URL(u, location.href);
    return p.protocol === 'http:' || p.protocol === 'https:' ? p.href : '';
  } catch {
    return '';
  }
};

const link = (text, url) => {
  const href = safeURL(url);
  if (!href) return el('span', 'title', text);
  const a = el('a', 'title', text);
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
};

const time = (dt) => {
  const d = new Date(dt);
  return isNaN(d) ? '' : d.toLocaleTimeString([], { hour12: false });
};

// shortName is a stream's name without the "mediawiki." most have.
export const shortName = (stream) => String(stream || '?').replace(/^mediawiki\./, '');

// recentchange: wiki, linked title, user, type, size change, comment.
function recentChange(e) {
  const parts = [el('span', 'wiki', e.wiki), link(e.title, e.title_url || e.meta?.uri)];
  parts.push(el('span', 'user', e.user ? (e.bot ? e.user + ' (bot)' : e.user) : ''));
  const type = e.type === 'log' && e.log_type ? `log: ${e.log_type}/${e.log_action || ''}` : e.type;
  parts.push(el('span', 'type', type));
  if (e.length && (e.length.new !== undefined || e.length.old !== undefined)) {
    const d = (e.length.new || 0) - (e.length.old || 0);
    parts.push(el('span', d > 0 ? 'size grow' : d < 0 ? 'size shrink' : 'size', (d > 0 ? '+' : '') + d));
  }
  parts.push(el('span', 'comment', e.comment));
  return parts;
}

// page and revision streams: the page and its wiki, with what happened
// (page_change_kind, where the stream has several) and who did it.
function pageEvent(e) {
  // page_title is in the database's form, with underscores for spaces.
  const title = String(e.page_title ?? e.page?.page_title ?? e.title ?? '').replaceAll('_', ' ');
  const wiki = e.database ?? e.wiki_id ?? e.wiki ?? e.meta?.domain;
  const user = e.performer?.user_text;
  return [el('span', 'wiki', wiki), link(title, e.meta?.uri), el('span', 'type', e.page_change_kind), el('span', 'user', user)];
}

// others: the wiki or domain (the stream and the time lead every line),
// and the entity and operation of the RDF streams.
function other(e) {
  return [el('span', 'wiki', e.wiki ?? e.database ?? e.wiki_id ?? e.meta?.domain), el('span', 'title', e.entity_id),
    el('span', 'type', e.operation)];
}

// kindOf is how a stream's events are shown.
const kindOf = (stream) =>
  stream === 'mediawiki.recentchange' ? recentChange : /^mediawiki\.(page|revision)/.test(stream) ? pageEvent : other;

// eventItem is the list item of event ev ({id, seq, stream, data}).
export function eventItem(ev, index) {
  const li = el('li');
  li.dataset.seq = ev.seq ?? '';
  li.dataset.stream = ev.stream;
  const line = el('div', 'line');
  const toggle = el('button', 'toggle');
  toggle.type = 'button';
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-label', `JSON of event ${ev.seq ?? index}`);
  toggle.textContent = '▸';
  line.append(toggle, el('span', 'time', time(ev.data.meta?.dt)), el('span', `stream ${colorClass(index)}`, shortName(ev.stream)));
  for (const p of kindOf(ev.stream)(ev.data)) {
    if (p.textContent) line.append(p);
  }
  li.append(line);
  return li;
}

// colorClass is the class of a stream's color (c0…c7), by its position
// in the selection.
export const colorClass = (i) => `c${(i >= 0 ? i : 0) % 8}`;

// toggleJSON shows or hides an item's pretty-printed JSON, with a button
// that copies it.
export function toggleJSON(li, data, copy) {
  const toggle = li.querySelector('.toggle');
  const open = toggle.getAttribute('aria-expanded') === 'true';
  toggle.setAttribute('aria-expanded', String(!open));
  toggle.textContent = open ? '▸' : '▾';
  const shown = li.querySelector('.json');
  if (open) {
    shown?.remove();
    return;
  }
  const box = el('div', 'json');
  const pre = el('pre', '', JSON.stringify(data, null, 2));
  pre.tabIndex = 0;
  const btn = el('button', 'copy', 'Copy JSON');
  btn.type = 'button';
  btn.addEventListener('click', () => copy(pre.textContent, btn));
  box.append(btn, pre);
  li.append(box);
}
