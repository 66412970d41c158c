// Modems: the list (live from the monitor), connect/disconnect, remove, and the add/edit form.
// Routes: #/modems, #/modems/new, #/modems/edit/<id>.

import { h, append, clear, fmtNumber, table, tableWrap, td, badge, pageHeader } from '../dom.js';
import { get, post, put, del, seg, describeError, loadModems } from '../api.js';
import { field, checkbox, fieldset, formStatus, submitButton, button, onSubmit, showLocalErrors, showStatus, confirmDialog, notify } from '../forms.js';
import { modemStateBadge, signalText } from './modem-format.js';

const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600];
const VENDORS = [
  ['auto', 'Automatic (from the modem’s answers)'],
  ['generic', 'Generic'],
  ['simcom', 'SIMCom'],
  ['huawei', 'Huawei'],
  ['quectel', 'Quectel'],
];
const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

// ---- list -----------------------------------------------------------------------------------

// Each column: label, sig(m) → string that changes when the cell must be redrawn, cell(m, actions).
// Only changed cells are redrawn on a monitor frame, so a focused button keeps its focus.
const COLUMNS = [
  {
    label: 'Modem',
    sig: (m) => [m.id, m.name, m.default_modem, m.manufacturer, m.model, m.port, m.baud_rate].join('|'),
    cell: (m) => [
      h('strong', null, m.id),
      m.name ? h('span', { class: 'muted' }, ` ${m.name}`) : null,
      m.default_modem ? [' ', badge('default', 'info')] : null,
      m.manufacturer || m.model ? h('span', { class: 'sub' }, [m.manufacturer, m.model].filter(Boolean).join(' ')) : null,
      h('span', { class: 'sub' }, h('code', null, m.port || '–'), ` · ${m.baud_rate || '?'} baud`),
    ],
  },
  {
    label: 'State',
    sig: (m) => [m.active, m.connected, m.state, m.in_rotation, m.last_error].join('|'),
    cell: (m) => [
      modemStateBadge(m),
      m.active && m.connected && m.in_rotation === false ? badge('out of rotation', 'warn') : null,
      m.last_error ? h('span', { class: 'sub error-text' }, m.last_error) : null,
    ],
  },
  {
    label: 'SIM and network',
    sig: (m) => [m.imei, m.iccid, m.operator, m.signal_dbm].join('|'),
    cell: (m) => [
      h('span', { class: 'sub' }, 'IMEI ', h('span', { testid: 'modem-imei' }, m.imei || '–')),
      m.iccid ? h('span', { class: 'sub' }, `ICCID ${m.iccid}`) : null,
      h('span', { class: 'sub' }, `${m.operator || 'no operator'} · ${signalText(m.signal_dbm)}`),
    ],
  },
  {
    label: 'Counters',
    sig: (m) => [m.queue_depth, m.sent, m.failed, m.retried, m.timeouts, m.reopens].join('|'),
    cell: (m) => [
      h('span', { class: 'counters' }, `${fmtNumber(m.sent)} sent · ${fmtNumber(m.failed)} failed`),
      h('span', { class: 'sub counters' }, `queue ${fmtNumber(m.queue_depth)} · retried ${fmtNumber(m.retried)} · timeouts ${fmtNumber(m.timeouts)} · reopens ${fmtNumber(m.reopens)}`),
    ],
  },
  {
    label: 'Routing',
    sig: (m) => [m.send_sms_from_api, (m.recipient_prefix || []).join(','), m.max_sms_per_minute, m.max_sms_per_day].join('|'),
    cell: (m) => [
      m.send_sms_from_api === false ? badge('not used by the API', 'muted') : null,
      h('span', { class: 'sub' }, (m.recipient_prefix || []).length ? `prefixes ${(m.recipient_prefix || []).join(', ')}` : 'no prefixes'),
      m.max_sms_per_minute || m.max_sms_per_day ? h('span', { class: 'sub' }, `caps ${m.max_sms_per_minute || '∞'}/min, ${m.max_sms_per_day || '∞'}/day`) : null,
    ],
  },
  {
    label: 'Actions',
    sig: (m) => `${m.id}|${m.active}`,
    cell: (m, actions) =>
      h(
        'div',
        { class: 'row-actions' },
        h('a', { class: 'btn btn-small', href: `#/modems/edit/${encodeURIComponent(m.id)}`, testid: 'modem-edit', 'aria-label': `Edit ${m.id}` }, 'Edit'),
        m.active
          ? button('Disconnect', { class: 'btn-small', testid: 'modem-disconnect', 'aria-label': `Disconnect ${m.id}`, onclick: () => actions.toggle(m, false) })
          : button('Connect', { class: 'btn-small', testid: 'modem-connect', 'aria-label': `Connect ${m.id}`, onclick: () => actions.toggle(m, true) }),
        button('Remove', { class: 'btn-small btn-danger', testid: 'modem-remove', 'aria-label': `Remove ${m.id}`, onclick: () => actions.remove(m) }),
      ),
  },
];

function renderList(container, ctx) {
  const addLink = h('a', { class: 'btn btn-primary', href: '#/modems/new', testid: 'modem-add' }, 'Add modem');
  const status = h('p', { class: 'form-status form-status-error', role: 'alert', hidden: true, testid: 'modems-error' });
  const { table: tbl, tbody } = table('modems-table', 'Configured modems', COLUMNS.map((c) => c.label), 'responsive');
  const empty = h('p', { class: 'muted', testid: 'modems-empty', hidden: true }, 'No modems are configured yet.');
  container.append(pageHeader('Modems', addLink), status, tableWrap(tbl, 'Configured modems'), empty);

  let rows = new Map(); // id → {tr, cells: [{td, sig}]}

  const actions = {
    async toggle(m, on) {
      try {
        await post(`/modems/${seg(m.id)}/${on ? 'connect' : 'disconnect'}`);
        notify(on ? `Modem ${m.id} is connecting.` : `Modem ${m.id} was disconnected.`);
        await load();
      } catch (e) {
        if (e.status !== 401) notify(describeError(e), 'error');
      }
    },
    async remove(m) {
      const ok = await confirmDialog({
        title: `Remove modem ${m.id}?`,
        message: 'The modem is stopped and removed from the configuration file. Its received messages stay on disk.',
        confirmLabel: 'Remove modem',
      });
      if (!ok) return;
      try {
        await del(`/modems/${seg(m.id)}`);
        notify(`Modem ${m.id} was removed.`);
        await load();
      } catch (e) {
        if (e.status !== 401) notify(describeError(e), 'error');
      }
    },
  };

  function show(list) {
    empty.hidden = list.length > 0;
    const sameRows = list.length === rows.size && list.every((m, i) => [...rows.keys()][i] === m.id);
    if (!sameRows) {
      clear(tbody);
      rows = new Map();
      for (const m of list) {
        const cells = COLUMNS.map((c) => ({ td: td(c.label), sig: null }));
        const tr = h('tr', { testid: 'modem-row', 'data-modem-id': m.id }, cells.map((c) => c.td));
        tbody.append(tr);
        rows.set(m.id, { tr, cells });
      }
    }
    for (const m of list) {
      const row = rows.get(m.id);
      COLUMNS.forEach((c, i) => {
        const sig = c.sig(m);
        if (row.cells[i].sig === sig) return;
        row.cells[i].sig = sig;
        append(clear(row.cells[i].td.firstElementChild), [c.cell(m, actions)]);
      });
    }
  }

  async function load() {
    try {
      show(await loadModems());
      status.hidden = true;
    } catch (e) {
      if (e.status === 401) return;
      status.textContent = describeError(e);
      status.hidden = false;
    }
  }

  if (ctx.live.lastModems) show(ctx.live.lastModems);
  load();
  ctx.onCleanup(ctx.live.on('modems', show));
}

// ---- add / edit form ------------------------------------------------------------------------

function intOrNull(text) {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

export function parsePrefixes(text) {
  return text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter(Boolean);
}

function renderForm(container, ctx, editId) {
  const isNew = editId === null;
  const title = isNew ? 'Add modem' : `Edit modem ${editId}`;
  const back = h('a', { class: 'btn', href: '#/modems', testid: 'modem-cancel' }, 'Back to the list');
  container.append(pageHeader(title, back));

  const f = {
    id: field({ id: 'modem-field-id', name: 'id', label: 'Id', required: true, autocapitalize: 'none', spellcheck: 'false', help: 'Used in the API (modem_id). 1 to 64 letters, digits, . _ -; cannot be changed later.' }),
    name: field({ id: 'modem-field-name', name: 'name', label: 'Name', maxlength: 128, help: 'Shown in lists, for example the SIM’s operator or number.' }),
    port: field({ id: 'modem-field-port', name: 'port', label: 'Serial port', required: true, autocapitalize: 'none', spellcheck: 'false', placeholder: '/dev/serial/by-id/…', help: 'A /dev/serial/by-id/… name survives USB renumbering.' }),
    baud_rate: field({ id: 'modem-field-baud_rate', name: 'baud_rate', label: 'Baud rate', type: 'select', value: '115200', options: BAUD_RATES.map((b) => ({ value: String(b), label: String(b) })) }),
    vendor: field({ id: 'modem-field-vendor', name: 'vendor', label: 'AT dialect', type: 'select', value: 'auto', options: VENDORS.map(([value, label]) => ({ value, label })) }),
    sms_mode: field({
      id: 'modem-field-sms_mode',
      name: 'sms_mode',
      label: 'SMS mode',
      type: 'select',
      value: 'pdu',
      options: [
        { value: 'pdu', label: 'PDU (long and Unicode messages, delivery reports)' },
        { value: 'auto', label: 'Automatic (PDU, text mode if the modem refuses PDU)' },
        { value: 'text', label: 'Text mode (single-part messages only)' },
      ],
    }),
    parity: field({ id: 'modem-field-parity', name: 'parity', label: 'Parity', type: 'select', value: 'none', options: ['none', 'even', 'odd'].map((v) => ({ value: v, label: v })) }),
    data_bits: field({ id: 'modem-field-data_bits', name: 'data_bits', label: 'Data bits', type: 'select', value: '8', options: ['8', '7'].map((v) => ({ value: v, label: v })) }),
    stop_bits: field({ id: 'modem-field-stop_bits', name: 'stop_bits', label: 'Stop bits', type: 'select', value: '1', options: ['1', '2'].map((v) => ({ value: v, label: v })) }),
    active: checkbox({ id: 'modem-field-active', name: 'active', label: 'Active (open the port and use the modem)', checked: true }),
    default_modem: checkbox({ id: 'modem-field-default_modem', name: 'default_modem', label: 'Default modem (tried after the prefix modems, before all others)' }),
    send_sms_from_api: checkbox({ id: 'modem-field-send_sms_from_api', name: 'send_sms_from_api', label: 'Send API messages (off: only messages sent from this page)', checked: true }),
    recipient_prefix: field({
      id: 'modem-field-recipient_prefix',
      name: 'recipient_prefix',
      label: 'Receiver prefixes',
      inputmode: 'numeric',
      autocomplete: 'off',
      placeholder: '62871, 62872',
      help: 'Comma-separated. Receivers starting with one of these are sent through this modem first. National form (0871) is converted with the country code.',
    }),
    max_sms_per_minute: field({ id: 'modem-field-max_sms_per_minute', name: 'max_sms_per_minute', label: 'Most SMS per minute', type: 'number', inputmode: 'numeric', min: 0, max: 1000, step: 1, value: '0', help: '0 = no cap. Operators block SIMs that send too fast.' }),
    max_sms_per_day: field({ id: 'modem-field-max_sms_per_day', name: 'max_sms_per_day', label: 'Most SMS per day', type: 'number', inputmode: 'numeric', min: 0, max: 1000000, step: 1, value: '0', help: '0 = no cap.' }),
    sim_pin: field({ id: 'modem-field-sim_pin', name: 'sim_pin', label: 'SIM PIN', type: 'password', inputmode: 'numeric', autocomplete: 'off', help: isNew ? '4 to 8 digits; leave empty if the SIM has no PIN.' : 'Leave empty to keep the stored PIN. 4 to 8 digits.' }),
  };
  const clearPin = checkbox({ id: 'modem-field-clear_pin', name: 'clear_pin', label: 'Remove the stored PIN' });
  clearPin.el.hidden = true;
  if (!isNew) {
    f.id.input.readOnly = true;
    f.id.el.querySelector('.help').textContent = 'The id cannot be changed.';
  }

  const form = h(
    'form',
    { class: 'stack', testid: 'modem-form' },
    formStatus('modem-form-status'),
    fieldset('Identity and port', f.id.el, f.name.el, f.port.el, f.baud_rate.el, f.vendor.el, f.sms_mode.el),
    fieldset('Serial line', f.parity.el, f.data_bits.el, f.stop_bits.el),
    fieldset('Use', f.active.el, f.default_modem.el, f.send_sms_from_api.el, f.recipient_prefix.el),
    fieldset('Sending caps', f.max_sms_per_minute.el, f.max_sms_per_day.el),
    fieldset('SIM', f.sim_pin.el, clearPin.el),
    h('div', { class: 'actions' }, submitButton(isNew ? 'Add modem' : 'Save', { testid: 'modem-save' })),
  );
  container.append(form);

  function fill(m) {
    f.id.input.value = m.id || '';
    f.name.input.value = m.name || '';
    f.port.input.value = m.port || '';
    const baud = String(m.baud_rate || 115200);
    if (![...f.baud_rate.input.options].some((o) => o.value === baud)) f.baud_rate.input.append(h('option', { value: baud }, baud));
    f.baud_rate.input.value = baud;
    f.vendor.input.value = m.vendor || 'auto';
    f.sms_mode.input.value = m.sms_mode || 'pdu';
    f.parity.input.value = m.parity || 'none';
    f.data_bits.input.value = String(m.data_bits || 8);
    f.stop_bits.input.value = String(m.stop_bits || 1);
    f.active.input.checked = m.active !== false;
    f.default_modem.input.checked = Boolean(m.default_modem);
    f.send_sms_from_api.input.checked = m.send_sms_from_api !== false;
    f.recipient_prefix.input.value = (m.recipient_prefix || []).join(', ');
    f.max_sms_per_minute.input.value = String(m.max_sms_per_minute ?? 0);
    f.max_sms_per_day.input.value = String(m.max_sms_per_day ?? 0);
    clearPin.el.hidden = !m.sim_pin_set;
    if (m.sim_pin_set) f.sim_pin.el.querySelector('.help').textContent = 'A PIN is stored. Leave empty to keep it, or enter a new one (4 to 8 digits).';
  }

  onSubmit(form, async () => {
    const problems = [];
    const id = f.id.input.value.trim();
    if (isNew && !ID_RE.test(id)) problems.push([f.id.input, 'Use 1 to 64 letters, digits, . _ or -.']);
    const port = f.port.input.value.trim();
    if (!port.startsWith('/')) problems.push([f.port.input, 'Enter an absolute path, for example /dev/ttyUSB0.']);
    const prefixes = parsePrefixes(f.recipient_prefix.input.value);
    const badPrefix = prefixes.find((p) => !/^\+?\d{1,16}$/.test(p));
    if (badPrefix) problems.push([f.recipient_prefix.input, `“${badPrefix}” is not a prefix: digits only, optionally with a leading +.`]);
    const perMinute = intOrNull(f.max_sms_per_minute.input.value);
    if (perMinute === null) problems.push([f.max_sms_per_minute.input, 'Enter a whole number (0 = no cap).']);
    const perDay = intOrNull(f.max_sms_per_day.input.value);
    if (perDay === null) problems.push([f.max_sms_per_day.input, 'Enter a whole number (0 = no cap).']);
    const pin = f.sim_pin.input.value.trim();
    if (pin && !/^\d{4,8}$/.test(pin)) problems.push([f.sim_pin.input, 'A PIN has 4 to 8 digits.']);
    if (problems.length) return showLocalErrors(form, problems);

    const body = {
      name: f.name.input.value.trim(),
      port,
      baud_rate: Number(f.baud_rate.input.value),
      active: f.active.input.checked,
      default_modem: f.default_modem.input.checked,
      send_sms_from_api: f.send_sms_from_api.input.checked,
      recipient_prefix: prefixes,
      vendor: f.vendor.input.value,
      sms_mode: f.sms_mode.input.value,
      parity: f.parity.input.value,
      data_bits: Number(f.data_bits.input.value),
      stop_bits: Number(f.stop_bits.input.value),
      max_sms_per_minute: perMinute,
      max_sms_per_day: perDay,
    };
    if (isNew) {
      body.id = id;
      body.sim_pin = pin;
      await post('/modems', body);
      notify(`Modem ${id} was added.`);
    } else {
      if (pin) body.sim_pin = pin;
      else if (clearPin.input.checked) body.sim_pin = '';
      await put(`/modems/${seg(editId)}`, body);
      notify(`Modem ${editId} was saved.`);
    }
    ctx.navigate('modems');
  });

  if (isNew) {
    f.id.input.focus();
    return;
  }
  get('/modems')
    .then((data) => {
      const m = (Array.isArray(data.modems) ? data.modems : []).find((x) => x.id === editId);
      if (!m) {
        showStatus(form, 'error', `There is no modem with the id “${editId}”.`);
        for (const el of form.elements) el.disabled = true;
        return;
      }
      fill(m);
    })
    .catch((e) => {
      if (e.status !== 401) showStatus(form, 'error', `The modem could not be loaded: ${describeError(e)}`);
    });
}

export default {
  id: 'modems',
  title: 'Modems',
  render(container, ctx, params) {
    if (params[0] === 'new') renderForm(container, ctx, null);
    else if (params[0] === 'edit' && params[1]) renderForm(container, ctx, params[1]);
    else renderList(container, ctx);
  },
};
