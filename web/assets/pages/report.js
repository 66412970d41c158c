// SMS report: traffic per modem per day as a stacked bar chart (inline SVG, drawn here), the same
// numbers as a table, and the newest log entries. Receivers arrive masked; no text is logged.

import { h, s, clear, fmtNumber, timeEl, table, tableWrap, td, badge, pageHeader, uid } from '../dom.js';
import { get, describeError } from '../api.js';
import { field } from '../forms.js';

const SERIES = 8; // colour classes .series-0 … .series-7 in app.css

function niceStep(max, ticks = 4) {
  if (max <= ticks) return 1;
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

function modemIdsOf(days) {
  const ids = new Set();
  for (const d of days) for (const id of Object.keys(d.modems || {})) ids.add(id);
  return [...ids].sort();
}

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Stacked columns: one per day, a segment per modem for sent, failed (all modems) on top. */
export function chart(days, modemIds, width = 720) {
  // Drawn at the box's real width (not scaled down), so the 12px labels stay readable on phones.
  const W = Math.max(300, Math.min(1100, Math.round(width)));
  const H = W < 500 ? 240 : 300;
  const m = { l: 44, r: 8, t: 16, b: 40 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const totals = days.map((d) => modemIds.reduce((acc, id) => acc + num(d.modems?.[id]?.sent) + num(d.modems?.[id]?.failed), 0));
  const max = Math.max(1, ...totals);
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const y = (v) => m.t + ph - (v / top) * ph;
  const band = pw / Math.max(1, days.length);
  const barW = Math.max(2, Math.min(48, band * 0.7));
  const titleId = uid('chart');
  const descId = uid('chart');

  const svg = s(
    'svg',
    { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`, testid: 'report-chart', preserveAspectRatio: 'xMidYMid meet' },
    s('title', { id: titleId }, 'SMS per day and modem'),
    s('desc', { id: descId }, `${days.length} days, ${modemIds.length} modems; the highest day has ${fmtNumber(max)} messages. The table below has the same numbers.`),
  );

  for (let v = 0; v <= top; v += step) {
    svg.append(
      s('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmtNumber(v)),
    );
  }
  const labelEvery = Math.ceil(days.length / Math.max(3, Math.floor(pw / 56)));
  days.forEach((d, i) => {
    const x = m.l + i * band + (band - barW) / 2;
    let acc = 0;
    const g = s('g', { class: 'day', 'data-date': d.date });
    modemIds.forEach((id, k) => {
      const sent = num(d.modems?.[id]?.sent);
      if (!sent) return;
      g.append(
        s('rect', { class: `bar series-${k % SERIES}`, x, y: y(acc + sent), width: barW, height: Math.max(0.5, y(acc) - y(acc + sent)) }, s('title', null, `${d.date} · ${id}: ${fmtNumber(sent)} sent`)),
      );
      acc += sent;
    });
    const failed = modemIds.reduce((a, id) => a + num(d.modems?.[id]?.failed), 0);
    if (failed) {
      g.append(s('rect', { class: 'bar bar-failed', x, y: y(acc + failed), width: barW, height: Math.max(0.5, y(acc) - y(acc + failed)) }, s('title', null, `${d.date}: ${fmtNumber(failed)} failed`)));
    }
    svg.append(g);
    if (i % labelEvery === 0) {
      svg.append(s('text', { class: 'axis', x: m.l + i * band + band / 2, y: H - m.b + 18, 'text-anchor': 'middle' }, String(d.date || '').slice(5)));
    }
  });
  svg.append(s('line', { class: 'axis-line', x1: m.l, x2: W - m.r, y1: y(0), y2: y(0) }));
  return svg;
}

function legend(modemIds) {
  return h(
    'ul',
    { class: 'legend', testid: 'report-legend' },
    modemIds.map((id, k) => h('li', null, h('span', { class: `swatch series-${k % SERIES}`, 'aria-hidden': 'true' }), `${id} sent`)),
    h('li', null, h('span', { class: 'swatch bar-failed', 'aria-hidden': 'true' }), 'failed (all modems)'),
  );
}

export default {
  id: 'report',
  title: 'SMS report',
  render(container, ctx) {
    const days = field({
      id: 'report-days',
      name: 'days',
      label: 'Period',
      type: 'select',
      value: '7',
      options: [1, 7, 14, 30, 90].map((n) => ({ value: String(n), label: n === 1 ? 'Today' : `Last ${n} days` })),
    });
    const status = h('p', { class: 'form-status form-status-error', role: 'alert', hidden: true, testid: 'report-error' });
    const chartBox = h('div', { class: 'chart-box', testid: 'report-chart-box' });
    const summary = h('div', { class: 'report-summary', testid: 'report-summary' });
    const perDay = h('details', { class: 'details' }, h('summary', null, 'Show the numbers as a table'));
    const { table: etbl, tbody: ebody } = table('report-entries', 'Newest log entries', ['Time', 'Modem', 'Receiver', 'Kind', 'Parts', 'Status', 'Error']);
    const entriesEmpty = h('p', { class: 'muted', hidden: true }, 'No log entries.');

    container.append(
      pageHeader('SMS report'),
      h('div', { class: 'toolbar' }, days.el),
      status,
      h('section', { 'aria-labelledby': 'rp-chart' }, h('h2', { id: 'rp-chart' }, 'Messages per day'), summary, chartBox, perDay),
      h('section', { 'aria-labelledby': 'rp-log' }, h('h2', { id: 'rp-log' }, 'Newest entries'), tableWrap(etbl, 'Newest log entries'), entriesEmpty),
    );

    let lastDays = [];
    let drawnWidth = 0;
    const chartWidth = () => Math.max(300, chartBox.clientWidth - 24); // minus the box's padding

    function drawChart() {
      const ids = modemIdsOf(lastDays);
      clear(chartBox);
      drawnWidth = chartWidth();
      if (!lastDays.length || !ids.length) {
        chartBox.append(h('p', { class: 'muted', testid: 'report-chart-empty' }, 'No SMS in this period.'));
      } else {
        chartBox.append(chart(lastDays, ids, drawnWidth), legend(ids));
      }
    }

    const resize = new ResizeObserver(() => {
      if (Math.abs(chartWidth() - drawnWidth) > 40) drawChart();
    });
    resize.observe(chartBox);
    ctx.onCleanup(() => resize.disconnect());

    function showDays(list) {
      lastDays = list;
      const ids = modemIdsOf(list);
      let sent = 0;
      let failed = 0;
      for (const d of list) for (const id of ids) {
        sent += num(d.modems?.[id]?.sent);
        failed += num(d.modems?.[id]?.failed);
      }
      summary.textContent = `${fmtNumber(sent)} sent, ${fmtNumber(failed)} failed in ${list.length} day${list.length === 1 ? '' : 's'}.`;
      drawChart();
      const headers = ['Date', ...ids.flatMap((id) => [`${id} sent`, `${id} failed`])];
      const { table: dtbl, tbody } = table('report-table', 'SMS per day and modem', headers);
      for (const d of list) {
        tbody.append(h('tr', null, h('th', { scope: 'row' }, d.date), ids.flatMap((id) => [h('td', { class: 'num' }, fmtNumber(num(d.modems?.[id]?.sent))), h('td', { class: 'num' }, fmtNumber(num(d.modems?.[id]?.failed)))])));
      }
      perDay.replaceChildren(perDay.firstElementChild, tableWrap(dtbl, 'SMS per day and modem'));
    }

    function showEntries(entries) {
      clear(ebody);
      entriesEmpty.hidden = entries.length > 0;
      for (const e of entries) {
        const ok = e.status === 'sent' || e.status === 'delivered';
        ebody.append(
          h(
            'tr',
            { testid: 'report-entry' },
            td('Time', timeEl(e.time)),
            td('Modem', e.modem_id || '–'),
            td('Receiver', e.receiver || '–'),
            td('Kind', e.kind || '–'),
            td('Parts', fmtNumber(e.parts)),
            td('Status', badge(e.status || '?', ok ? 'ok' : 'bad')),
            td('Error', e.error || ''),
          ),
        );
      }
    }

    async function load() {
      try {
        const data = await get(`/sms-log?days=${encodeURIComponent(days.input.value)}`);
        status.hidden = true;
        showDays(Array.isArray(data.days) ? data.days : []);
        showEntries(Array.isArray(data.entries) ? data.entries : []);
      } catch (e) {
        if (e.status === 401) return;
        status.textContent = describeError(e);
        status.hidden = false;
      }
    }

    days.input.addEventListener('change', load);
    load();
  },
};
