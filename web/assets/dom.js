// DOM building without innerHTML: every text that may come from the server (modem names, message
// texts, error sentences) goes through textContent or a text node, so it can never become markup.
// No style attributes either: the daemon's Content-Security-Policy forbids inline styles, so looks
// are CSS classes only.

const SVG_NS = 'http://www.w3.org/2000/svg';

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (key === 'testid') {
      el.setAttribute('data-testid', value);
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'value' || key === 'checked' || key === 'selected') {
      // set as properties after the children exist (a <select> needs its options first)
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'style') {
      throw new Error('inline styles are blocked by the CSP; use a class');
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
}

function setProps(el, attrs) {
  if (!attrs) return;
  if (attrs.value !== undefined && attrs.value !== null) el.value = String(attrs.value);
  if (attrs.checked !== undefined) el.checked = Boolean(attrs.checked);
  if (attrs.selected !== undefined) el.selected = Boolean(attrs.selected);
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** h('button', {class: 'primary', testid: 'x', onclick}, 'Label') */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  setProps(el, attrs);
  return el;
}

/** The same for SVG elements (the report chart). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

let idCounter = 0;
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// ---- formatting -----------------------------------------------------------------------------

const numberFormat = new Intl.NumberFormat();

export function fmtNumber(n) {
  return typeof n === 'number' && Number.isFinite(n) ? numberFormat.format(n) : '–';
}

export function fmtDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '–';
  const total = Math.floor(seconds);
  const d = Math.floor(total / 86400);
  const hh = Math.floor((total % 86400) / 3600);
  const mm = Math.floor((total % 3600) / 60);
  if (d > 0) return `${d} d ${hh} h`;
  if (hh > 0) return `${hh} h ${mm} min`;
  if (mm > 0) return `${mm} min ${total % 60} s`;
  return `${total} s`;
}

export function fmtBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function fmtTime(unix) {
  if (typeof unix !== 'number' || !Number.isFinite(unix) || unix <= 0) return '–';
  return new Date(unix * 1000).toLocaleString();
}

export function fmtClock(unix) {
  if (typeof unix !== 'number' || !Number.isFinite(unix) || unix <= 0) return '–';
  return new Date(unix * 1000).toLocaleTimeString();
}

/** A <time> element with a machine-readable datetime. */
export function timeEl(unix, format = fmtTime) {
  const ok = typeof unix === 'number' && Number.isFinite(unix) && unix > 0;
  return h('time', { datetime: ok ? new Date(unix * 1000).toISOString() : undefined }, format(unix));
}

/** A table inside a scroll box, so a wide table never widens the page on a phone. */
export function tableWrap(tableEl, label) {
  // The region is focusable so a keyboard can scroll it; its name differs from the section's.
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': `${label}, table`, tabindex: '0' }, tableEl);
}

/** Builds a <table> with a header row; rows are added by the caller. */
export function table(testid, caption, headers, extraClass) {
  const tbody = h('tbody');
  const el = h(
    'table',
    { class: ['data', extraClass], testid },
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h('thead', null, h('tr', null, headers.map((t) => h('th', { scope: 'col' }, t)))),
    tbody,
  );
  return { table: el, tbody };
}

/**
 * A <td> that shows its column name on phones (CSS reads data-label). The content sits in one
 * wrapper so the phone layout (label | content) holds however many nodes the cell has.
 */
export function td(label, ...children) {
  return h('td', { 'data-label': label }, h('div', { class: 'cell' }, ...children));
}

export function badge(text, kind) {
  return h('span', { class: ['badge', kind && `badge-${kind}`] }, text);
}

export function pageHeader(title, ...actions) {
  return h(
    'div',
    { class: 'page-header' },
    h('h1', { tabindex: '-1' }, title),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null,
  );
}
