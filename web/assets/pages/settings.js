// Settings: the configuration without modems and secrets (GET/PUT /admin/api/settings).
// Only changed values are sent (the daemon deep-merges them); the daemon validates and names
// every problem by its JSON path, which is also each input's name, so errors land next to the
// field. Keys this page does not know are still shown, by type, under "Other".

import { h, clear, pageHeader } from '../dom.js';
import { get, put, post, describeError } from '../api.js';
import { field, checkbox, fieldset, formStatus, submitButton, button, onSubmit, showLocalErrors, showStatus, confirmDialog } from '../forms.js';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'off'];
const API_PATHS = ['otp', 'sms', 'message', 'email', 'block', 'unblock', 'modem', 'ussd'];

// [path, label, type, extra]; type: text | int | bool | select. Ranges from docs/configuration.md.
const SECTIONS = [
  {
    id: 'general',
    legend: 'General',
    fields: [
      ['device_name', 'Device name', 'text', { help: 'Shown in the header and the page title.' }],
      ['state_dir', 'State directory', 'text', { help: 'Users, OTP key, block list, inbox and SMS log live here. Applies after a restart.' }],
      ['general.inspect_modem_interval_s', 'Device inspector interval (s)', 'int', { min: 0, max: 3600, help: 'How often serial ports are scanned for modems; 0 = off.' }],
      ['general.shutdown_grace_s', 'Shutdown grace (s)', 'int', { min: 1, max: 300, help: 'How long work in flight may take when the daemon stops.' }],
      ['general.log_level', 'Log level', 'select', { options: LOG_LEVELS }],
    ],
  },
  {
    id: 'api',
    legend: 'REST API: ports and TLS',
    fields: [
      ['api.http.enabled', 'Serve the API over plain HTTP', 'bool'],
      ['api.http.bind', 'HTTP listen address', 'text', { help: 'An IP address; 0.0.0.0 = all.' }],
      ['api.http.port', 'HTTP port', 'int', { min: 1, max: 65535 }],
      ['api.https.enabled', 'Serve the API over HTTPS', 'bool'],
      ['api.https.bind', 'HTTPS listen address', 'text'],
      ['api.https.port', 'HTTPS port', 'int', { min: 1, max: 65535 }],
      ['api.https.cert_file', 'Certificate file (PEM)', 'text', { help: 'Absolute path.' }],
      ['api.https.key_file', 'Private key file (PEM)', 'text', { help: 'Absolute path.' }],
    ],
  },
  {
    id: 'api-paths',
    legend: 'REST API: paths',
    fields: API_PATHS.map((p) => [`api.paths.${p}`, `Path for ${p}`, 'text', { help: p === 'otp' ? 'Starts with /. Every path accepts every command.' : undefined }]),
  },
  {
    id: 'api-limits',
    legend: 'REST API: limits',
    fields: [
      ['api.max_body_bytes', 'Largest request body (bytes)', 'int', { min: 1024, max: 1048576 }],
      ['api.max_connections', 'Open connections per listener', 'int', { min: 1, max: 100000 }],
      ['api.header_timeout_s', 'Header timeout (s)', 'int', { min: 1, max: 300 }],
      ['api.idle_timeout_s', 'Idle timeout (s)', 'int', { min: 1, max: 3600 }],
      ['api.reply_wait_s', 'Wait for the modem’s answer (s)', 'int', { min: 1, max: 300 }],
      ['api.user_rate_limit_per_minute', 'Sends per API user per minute', 'int', { min: 0, max: 65535, help: '0 = no limit.' }],
      ['api.auth_failures_per_minute', 'Failed logins per address per minute', 'int', { min: 1, max: 10000 }],
      ['api.block_list_max_entries', 'Numbers the block list may hold', 'int', { min: 1, max: 1000000 }],
      ['api.block_rate_limit_per_minute', 'Block list changes per user per minute', 'int', { min: 0, max: 65535, help: '0 = no limit.' }],
    ],
  },
  {
    id: 'sms',
    legend: 'SMS',
    fields: [
      ['sms.country_code', 'Country code', 'text', { inputmode: 'numeric', help: '1 to 3 digits; replaces a leading 0 (0812… → 62812…).' }],
      ['sms.recipient_prefix_length', 'Prefix length', 'int', { min: 1, max: 10, help: 'Digits of the receiver that prefix routing compares; every modem prefix must have this many.' }],
      ['sms.log_enabled', 'Keep the SMS log (receivers masked, never the text)', 'bool'],
      ['sms.log_retention_days', 'Days of SMS log kept', 'int', { min: 1, max: 3650 }],
      ['sms.queue_limit', 'Messages that may wait for a modem', 'int', { min: 1, max: 100000 }],
    ],
  },
  {
    id: 'otp',
    legend: 'OTP',
    fields: [
      ['otp.length', 'Digits per code', 'int', { min: 4, max: 10 }],
      ['otp.expiration_s', 'Lifetime (s)', 'int', { min: 30, max: 600, help: 'When the request has no expiration.' }],
      ['otp.max_attempts', 'Wrong codes before the OTP is destroyed', 'int', { min: 1, max: 100 }],
      ['otp.resend_limit', 'OTPs per receiver per window', 'int', { min: 1, max: 1000 }],
      ['otp.resend_window_s', 'Resend window (s)', 'int', { min: 1, max: 86400 }],
      ['otp.capacity', 'Most live OTPs', 'int', { min: 1000, max: 10000000 }],
      ['otp.reference_scope', 'Who can check, verify or burn an OTP by its reference', 'select', { options: ['user', 'global'], help: 'user: only the API user that requested it; global: any API user (as OTP-Pi did). Applies after a restart.' }],
    ],
    templates: true,
  },
  {
    id: 'admin',
    legend: 'Admin interface',
    fields: [
      ['admin.bind', 'Listen address', 'text'],
      ['admin.port', 'Port', 'int', { min: 1, max: 65535 }],
      ['admin.https', 'Serve this interface over HTTPS', 'bool'],
      ['admin.cert_file', 'Certificate file (PEM)', 'text'],
      ['admin.key_file', 'Private key file (PEM)', 'text'],
      ['admin.session_idle_s', 'Session idle timeout (s)', 'int', { min: 60, max: 86400 }],
      ['admin.session_absolute_s', 'Session lifetime (s)', 'int', { min: 300, max: 604800 }],
    ],
  },
];

const KNOWN = new Set(SECTIONS.flatMap((s) => s.fields.map((f) => f[0])).concat(['otp.templates']));

function getPath(obj, path) {
  return path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), obj);
}

function setPath(obj, path, value) {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== 'object') o[k] = {};
    o = o[k];
  }
  o[keys[keys.length - 1]] = value;
}

/** Leaf paths of scalar values, for keys the page does not know. */
function leaves(obj, prefix = '') {
  const out = [];
  for (const [k, v] of Object.entries(obj || {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (path === 'otp.templates') continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...leaves(v, path));
    else if (['string', 'number', 'boolean'].includes(typeof v)) out.push([path, v]);
  }
  return out;
}

function testidOf(path) {
  return `setting-${path}`;
}

export default {
  id: 'settings',
  title: 'Settings',
  render(container) {
    const form = h('form', { class: 'stack settings', testid: 'settings-form' });
    const restart = h('div', { class: 'notice', testid: 'settings-restart-required', role: 'status', hidden: true });
    const loading = h('p', { class: 'muted' }, 'Loading the settings…');
    container.append(pageHeader('Settings'), restart, loading, form);

    let original = null;
    let inputs = []; // {path, type, input}
    let templateRows = null; // container of the template rows
    let templateCounter = 0; // ids stay unique when rows are removed and added

    function showRestart(list) {
      clear(restart);
      const items = Array.isArray(list) ? list.filter((x) => typeof x === 'string') : [];
      restart.hidden = items.length === 0;
      if (!items.length) return;
      const restartButton = button('Restart now', { testid: 'settings-restart' });
      const restartStatus = h('p', { role: 'status', testid: 'settings-restart-status' });
      restartButton.addEventListener('click', async () => {
        const ok = await confirmDialog({
          title: 'Restart the gateway?',
          message: 'Requests in progress finish first; the gateway is unreachable for a few seconds, and everyone is logged out.',
          confirmLabel: 'Restart',
          danger: false,
        });
        if (!ok) return;
        restartButton.disabled = true;
        try {
          await post('/restart');
          restartStatus.textContent = 'Restarting… this page reloads when the gateway is back.';
          waitForRestart(restartStatus);
        } catch (e) {
          restartButton.disabled = false;
          restartStatus.textContent = describeError(e);
        }
      });
      restart.append(
        h('p', null, h('strong', null, 'Restart needed. '), 'These saved changes take effect after the daemon restarts:'),
        h('ul', null, items.map((p) => h('li', null, h('code', null, p)))),
        h('div', { class: 'actions' }, restartButton),
        restartStatus,
      );
    }

    function makeInput(path, label, type, extra = {}, value) {
      const id = testidOf(path).replace(/\./g, '-');
      let made;
      if (type === 'bool') {
        made = checkbox({ id, name: path, testid: testidOf(path), label, checked: Boolean(value), help: extra.help });
      } else if (type === 'select') {
        const options = extra.options.map((o) => ({ value: o, label: o }));
        if (value !== undefined && !extra.options.includes(value)) options.push({ value: String(value), label: String(value) });
        made = field({ id, name: path, testid: testidOf(path), label, type: 'select', options, value: value ?? '', help: extra.help });
      } else if (type === 'int') {
        made = field({ id, name: path, testid: testidOf(path), label, type: 'number', inputmode: 'numeric', step: 1, min: extra.min, max: extra.max, value: value ?? '', help: extra.help ?? (extra.min !== undefined ? `${extra.min} to ${extra.max}.` : undefined) });
      } else {
        made = field({ id, name: path, testid: testidOf(path), label, value: value ?? '', inputmode: extra.inputmode, autocapitalize: 'none', spellcheck: 'false', help: extra.help });
      }
      inputs.push({ path, type, input: made.input });
      return made.el;
    }

    function templateRow(lang = '', text = '') {
      templateCounter += 1;
      const idx = templateCounter;
      const l = field({ id: `setting-template-lang-${idx}`, name: `otp.templates.lang.${idx}`, testid: 'setting-template-lang', label: 'Language', value: lang, autocapitalize: 'none', spellcheck: 'false', placeholder: 'en' });
      const t = field({ id: `setting-template-text-${idx}`, name: `otp.templates.text.${idx}`, testid: 'setting-template-text', label: 'Text (with one %s for the code)', value: text, placeholder: 'Your code is %s' });
      const row = h('div', { class: 'template-row', testid: 'setting-template-row' }, l.el, t.el);
      row.append(button('Remove', { class: 'btn-small btn-danger', testid: 'setting-template-remove', 'aria-label': 'Remove this template', onclick: () => row.remove() }));
      row.langInput = l.input;
      row.textInput = t.input;
      templateRows.append(row);
      return row;
    }

    function templates() {
      const out = {};
      for (const row of templateRows.children) {
        const lang = row.langInput.value.trim();
        // Named by its JSON path, so "otp.templates.id: ..." from the daemon lands here.
        row.textInput.name = `otp.templates.${lang}`;
        if (lang || row.textInput.value) out[lang] = row.textInput.value;
      }
      return out;
    }

    function build(settings) {
      original = settings;
      inputs = [];
      clear(form);
      form.append(formStatus('settings-form-status'));
      for (const section of SECTIONS) {
        const present = section.fields.filter(([path]) => getPath(settings, path) !== undefined);
        const els = present.map(([path, label, type, extra]) => makeInput(path, label, type, extra, getPath(settings, path)));
        if (section.templates) {
          templateRows = h('div', { class: 'templates', testid: 'setting-templates' });
          const current = getPath(settings, 'otp.templates');
          for (const [lang, text] of Object.entries(current && typeof current === 'object' ? current : {})) templateRow(lang, String(text));
          els.push(
            h(
              'div',
              { class: 'field field-wide' },
              h('h2', { class: 'subhead' }, 'SMS templates per language'),
              h('p', { class: 'help' }, 'Used when a request-otp has no message: looked up by its language, then “en”, then “Your OTP is %s”. Write %% for a literal %.'),
              templateRows,
              button('Add a template', { class: 'btn-small', testid: 'setting-template-add', onclick: () => templateRow().langInput.focus() }),
            ),
          );
        }
        if (els.length) form.append(h('fieldset', { testid: `settings-section-${section.id}` }, h('legend', null, section.legend), els));
      }
      const unknown = leaves(settings).filter(([path]) => !KNOWN.has(path));
      if (unknown.length) {
        form.append(
          fieldset(
            'Other',
            unknown.map(([path, v]) => makeInput(path, path, typeof v === 'boolean' ? 'bool' : Number.isInteger(v) ? 'int' : 'text', {}, v)),
          ),
        );
      }
      form.append(h('div', { class: 'actions sticky-actions' }, submitButton('Save settings', { testid: 'settings-save' })));
    }

    onSubmit(form, async () => {
      const patch = {};
      const problems = [];
      for (const { path, type, input } of inputs) {
        const before = getPath(original, path);
        let value;
        if (type === 'bool') value = input.checked;
        else if (type === 'int') {
          const t = input.value.trim();
          if (!/^-?\d+$/.test(t)) {
            problems.push([input, 'Enter a whole number.']);
            continue;
          }
          value = Number(t);
        } else value = input.value;
        if (value !== before) setPath(patch, path, value);
      }
      if (templateRows) {
        const now = templates();
        if (Object.keys(now).some((k) => !k)) problems.push([templateRows.querySelector('[data-testid="setting-template-lang"]'), 'Every template needs a language tag (for example en).']);
        const before = getPath(original, 'otp.templates') || {};
        if (JSON.stringify(now) !== JSON.stringify(before)) {
          // Deep merge cannot delete a key; a removed language is sent as null (JSON Merge
          // Patch, RFC 7396), the rest whole.
          const t = { ...now };
          for (const k of Object.keys(before)) if (!(k in now)) t[k] = null;
          setPath(patch, 'otp.templates', t);
        }
      }
      if (problems.length) return showLocalErrors(form, problems);
      if (!Object.keys(patch).length) return showStatus(form, 'info', 'Nothing changed.');
      const answer = await put('/settings', patch);
      const fresh = answer.settings && typeof answer.settings === 'object' ? answer : await get('/settings');
      build(fresh.settings);
      const restartList = Array.isArray(answer.restart_required) ? answer.restart_required : fresh.restart_required;
      showRestart(restartList);
      showStatus(form, 'ok', restartList && restartList.length ? 'The settings were saved. Some take effect after a restart (see above).' : 'The settings were saved and applied.');
      form.querySelector('.form-status').scrollIntoView({ block: 'nearest' });
    });

    get('/settings')
      .then((data) => {
        loading.remove();
        build(data.settings && typeof data.settings === 'object' ? data.settings : {});
        showRestart(data.restart_required);
      })
      .catch((e) => {
        if (e.status === 401) return;
        loading.textContent = '';
        loading.append(h('span', { class: 'error-text', role: 'alert' }, `The settings could not be loaded: ${describeError(e)}`));
      });
  },
};

// After a restart request: poll until the daemon answers again, then reload
// (the new process has no sessions: the login page follows).
function waitForRestart(status, started = Date.now()) {
  setTimeout(async () => {
    try {
      const r = await fetch('/admin/api/session', { credentials: 'same-origin', cache: 'no-store' });
      if (r.ok) {
        window.location.reload();
        return;
      }
    } catch (e) {
      // still restarting
    }
    if (Date.now() - started > 60000) {
      status.textContent = 'The gateway has not come back after a minute. Check it with: systemctl status otppi';
      return;
    }
    waitForRestart(status, started);
  }, 1000);
}
