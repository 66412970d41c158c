// Small pieces shared by the pages that show or pick modems.

import { badge } from '../dom.js';

export function modemStateBadge(m) {
  if (!m.active) return badge('off', 'muted');
  if (!m.connected) return badge(m.state ? `not connected (${m.state})` : 'not connected', 'bad');
  const state = m.state || 'connected';
  return badge(state, state === 'ready' ? 'ok' : 'warn');
}

/** "-71 dBm (good)"; the words follow the usual GSM RSSI bands. */
export function signalText(dbm) {
  if (typeof dbm !== 'number' || !Number.isFinite(dbm)) return '–';
  let word = 'poor';
  if (dbm >= -70) word = 'excellent';
  else if (dbm >= -85) word = 'good';
  else if (dbm >= -100) word = 'fair';
  return `${dbm} dBm (${word})`;
}

export function modemLabel(m) {
  const notes = [];
  if (!m.active) notes.push('off');
  else if (!m.connected) notes.push('not connected');
  if (m.send_sms_from_api === false) notes.push('not used by the API');
  return `${m.id}${m.name ? ` – ${m.name}` : ''}${notes.length ? ` (${notes.join(', ')})` : ''}`;
}

/** Options for a modem <select>; `auto` adds the "route as the API would" choice first. */
export function modemOptions(modems, { auto = false } = {}) {
  const options = modems.map((m) => ({ value: m.id, label: modemLabel(m) }));
  if (auto) options.unshift({ value: '', label: 'Automatic (route as the API does)' });
  return options;
}
