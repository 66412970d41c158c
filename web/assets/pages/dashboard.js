// Dashboard: server status cards, the modem table and the live event feed (WebSocket), with a
// slow poll as a fallback while the socket is down.

import { h, clear, fmtDuration, fmtBytes, fmtNumber, fmtClock, timeEl, table, tableWrap, td, badge, pageHeader } from '../dom.js';
import { get, describeError } from '../api.js';
import { modemStateBadge, signalText } from './modem-format.js';

const EVENT_LABELS = {
  modem_state: 'Modem state',
  modem_moved: 'Modem moved',
  sms_sent: 'SMS sent',
  sms_failed: 'SMS failed',
  incoming_sms: 'Incoming SMS',
  delivery_report: 'Delivery report',
};

const CARDS = [
  ['uptime', 'Uptime', (s) => fmtDuration(s.uptime_s)],
  ['modems-ready', 'Modems ready', (s) => `${fmtNumber(s.modems_ready)} of ${fmtNumber(s.modems_total)}`],
  ['queue', 'Queue', (s) => fmtNumber(s.queue_length)],
  ['sent-today', 'Sent today', (s) => fmtNumber(s.sms_sent_today)],
  ['failed-today', 'Failed today', (s) => fmtNumber(s.sms_failed_today)],
  ['otp-live', 'Live OTPs', (s) => fmtNumber(s.otp_live)],
  ['memory', 'Memory', (s) => fmtBytes(s.memory_rss_bytes)],
  ['temperature', 'CPU temperature', (s) => (typeof s.cpu_temperature_c === 'number' ? `${s.cpu_temperature_c.toFixed(1)} °C` : 'no sensor')],
  ['load', 'Load average', (s) => (Array.isArray(s.load_average) ? s.load_average.map((v) => (typeof v === 'number' ? v.toFixed(2) : '–')).join(' · ') : '–')],
  ['connections', 'API connections', (s) => fmtNumber(s.http_connections)],
];

function eventItem(ev) {
  const kind = EVENT_LABELS[ev.kind] || ev.kind;
  const bad = ev.kind === 'sms_failed';
  return h(
    'li',
    { class: ['event', bad && 'event-bad'], testid: 'event-item', 'data-kind': ev.kind },
    timeEl(ev.time, fmtClock),
    h('span', { class: 'event-kind' }, kind),
    ev.modem_id ? h('span', { class: 'event-modem' }, ev.modem_id) : null,
    ev.detail ? h('span', { class: 'event-detail' }, ev.detail) : null,
  );
}

export default {
  id: 'dashboard',
  title: 'Dashboard',
  render(container, ctx) {
    const { live } = ctx;
    const values = {};
    const cards = h(
      'div',
      { class: 'cards', testid: 'status-cards' },
      CARDS.map(([key, label]) => {
        values[key] = h('span', { class: 'card-value' }, '–');
        return h('div', { class: 'card stat', testid: `status-${key}` }, h('span', { class: 'card-label' }, label), values[key]);
      }),
    );
    const serverLine = h('p', { class: 'muted', testid: 'status-server' });
    const statusError = h('p', { class: 'form-status form-status-error', role: 'alert', hidden: true });

    const { table: modemTable, tbody } = table('modem-status-table', 'Modems', ['Modem', 'State', 'Signal', 'Operator', 'Queue', 'Sent', 'Failed', 'Last error'], 'responsive');
    const noModems = h('p', { class: 'muted', hidden: true, testid: 'modem-status-empty' }, 'No modems are configured. ', h('a', { href: '#/modems/new' }, 'Add a modem'), '.');

    const feed = h('ol', { class: 'events', testid: 'event-feed', 'aria-label': 'Recent events' });
    const feedEmpty = h('p', { class: 'muted', testid: 'event-feed-empty' }, 'No events yet. Events appear here as they happen while this page is open.');

    container.append(
      pageHeader('Dashboard'),
      statusError,
      h('section', { 'aria-labelledby': 'dash-status' }, h('h2', { id: 'dash-status' }, 'Server status'), serverLine, cards),
      h('section', { 'aria-labelledby': 'dash-modems' }, h('h2', { id: 'dash-modems' }, 'Modems'), tableWrap(modemTable, 'Modems'), noModems),
      h('section', { 'aria-labelledby': 'dash-events' }, h('h2', { id: 'dash-events' }, 'Live events'), feedEmpty, feed),
    );

    function showStatus(s) {
      for (const [key, , fmt] of CARDS) values[key].textContent = fmt(s);
      const failed = typeof s.sms_failed_today === 'number' && s.sms_failed_today > 0;
      values['failed-today'].parentElement.classList.toggle('stat-bad', failed);
      const notReady = typeof s.modems_ready === 'number' && typeof s.modems_total === 'number' && s.modems_ready < s.modems_total;
      values['modems-ready'].parentElement.classList.toggle('stat-warn', notReady);
      serverLine.textContent = [s.device_name, s.version ? `otppi ${s.version}` : '', typeof s.started_unix === 'number' ? `running since ${new Date(s.started_unix * 1000).toLocaleString()}` : '']
        .filter(Boolean)
        .join(' · ');
      statusError.hidden = true;
    }

    function showModems(list) {
      clear(tbody);
      noModems.hidden = list.length > 0;
      for (const m of list) {
        tbody.append(
          h(
            'tr',
            { testid: 'modem-status-row', 'data-modem-id': m.id },
            td('Modem', h('strong', null, m.id), m.name ? h('span', { class: 'muted' }, ` ${m.name}`) : null, m.default_modem ? [' ', badge('default', 'info')] : null),
            td('State', modemStateBadge(m)),
            td('Signal', signalText(m.signal_dbm)),
            td('Operator', m.operator || '–'),
            td('Queue', fmtNumber(m.queue_depth)),
            td('Sent', fmtNumber(m.sent)),
            td('Failed', fmtNumber(m.failed)),
            td('Last error', m.last_error || '–'),
          ),
        );
      }
    }

    function showEvents() {
      clear(feed);
      for (const ev of live.events.slice(0, 50)) feed.append(eventItem(ev));
      feedEmpty.hidden = live.events.length > 0;
    }

    async function poll() {
      try {
        const [s, m] = await Promise.all([get('/status'), get('/modems')]);
        showStatus(s);
        showModems(Array.isArray(m.modems) ? m.modems : []);
      } catch (e) {
        if (e.status === 401) return;
        statusError.textContent = describeError(e);
        statusError.hidden = false;
      }
    }

    if (live.lastStatus) showStatus(live.lastStatus);
    if (live.lastModems) showModems(live.lastModems);
    showEvents();
    poll();

    ctx.onCleanup(live.on('status', showStatus));
    ctx.onCleanup(live.on('modems', showModems));
    ctx.onCleanup(
      live.on('event', (ev) => {
        feed.prepend(eventItem(ev));
        while (feed.children.length > 50) feed.lastElementChild.remove();
        feedEmpty.hidden = true;
      }),
    );
    // While the socket is down, fall back to asking every 10 s.
    const timer = setInterval(() => {
      if (live.state !== 'live') poll();
    }, 10000);
    ctx.onCleanup(() => clearInterval(timer));
  },
};
