// SIM and IMEI tools: turn a SIM's PIN lock on or off (AT+CLCK), write a modem's IMEI.

import { h, pageHeader } from '../dom.js';
import { post, seg, loadModems, describeError } from '../api.js';
import { field, fieldset, formStatus, submitButton, onSubmit, showLocalErrors, showStatus, confirmDialog } from '../forms.js';
import { modemOptions } from './modem-format.js';

/** Luhn check digit test; a 15-digit IMEI ends with one. */
export function luhnOk(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export default {
  id: 'tools',
  title: 'SIM and IMEI tools',
  render(container) {
    // ---- SIM PIN lock
    const simModem = field({ id: 'sim-lock-modem', name: 'modem_id', label: 'Modem', type: 'select', options: [] });
    const simAction = field({
      id: 'sim-lock-enable',
      name: 'enable',
      label: 'PIN lock',
      type: 'select',
      value: 'false',
      options: [
        { value: 'false', label: 'Turn the PIN lock off' },
        { value: 'true', label: 'Turn the PIN lock on' },
      ],
    });
    const simPin = field({ id: 'sim-lock-pin', name: 'pin', label: 'Current SIM PIN', type: 'password', inputmode: 'numeric', autocomplete: 'off', required: true, help: '4 to 8 digits. Three wrong PINs block the SIM (then only the PUK helps).' });
    const simForm = h(
      'form',
      { class: 'stack narrow', testid: 'sim-lock-form' },
      formStatus('sim-lock-form-status'),
      fieldset('SIM PIN lock', simModem.el, simAction.el, simPin.el),
      h('div', { class: 'actions' }, submitButton('Apply', { testid: 'sim-lock-submit' })),
    );

    // ---- IMEI
    const imeiModem = field({ id: 'imei-modem', name: 'modem_id', label: 'Modem', type: 'select', options: [] });
    const imei = field({ id: 'imei-value', name: 'imei', label: 'New IMEI', inputmode: 'numeric', autocomplete: 'off', required: true, maxlength: 15, help: '15 digits. Not every modem supports this; changing an IMEI is illegal in some countries.' });
    const imeiForm = h(
      'form',
      { class: 'stack narrow', testid: 'imei-form' },
      formStatus('imei-form-status'),
      fieldset('IMEI', imeiModem.el, imei.el),
      h('div', { class: 'actions' }, submitButton('Write IMEI', { testid: 'imei-submit' })),
    );

    container.append(
      pageHeader('SIM and IMEI tools'),
      h('section', { 'aria-labelledby': 'tl-sim' }, h('h2', { id: 'tl-sim' }, 'SIM tool'), simForm),
      h('section', { 'aria-labelledby': 'tl-imei' }, h('h2', { id: 'tl-imei' }, 'IMEI tool'), imeiForm),
    );

    let modems = [];
    const currentImei = () => imeiModem.input.value && (modems.find((m) => m.id === imeiModem.input.value) || {}).imei;
    const showCurrentImei = () => {
      const cur = currentImei();
      imei.el.querySelector('.help').textContent = `${cur ? `Now ${cur}. ` : ''}15 digits. Not every modem supports this; changing an IMEI is illegal in some countries.`;
    };
    imeiModem.input.addEventListener('change', showCurrentImei);

    onSubmit(simForm, async () => {
      const problems = [];
      if (!simModem.input.value) problems.push([simModem.input, 'Choose a modem.']);
      if (!/^\d{4,8}$/.test(simPin.input.value)) problems.push([simPin.input, 'A PIN has 4 to 8 digits.']);
      if (problems.length) return showLocalErrors(simForm, problems);
      const enable = simAction.input.value === 'true';
      try {
        await post(`/modems/${seg(simModem.input.value)}/sim-lock`, { enable, pin: simPin.input.value });
      } finally {
        simPin.input.value = '';
      }
      showStatus(simForm, 'ok', `The PIN lock of the SIM in ${simModem.input.value} is now ${enable ? 'on' : 'off'}.`);
    });

    onSubmit(imeiForm, async () => {
      const id = imeiModem.input.value;
      const v = imei.input.value.trim();
      const problems = [];
      if (!id) problems.push([imeiModem.input, 'Choose a modem.']);
      if (!/^\d{15}$/.test(v)) problems.push([imei.input, 'An IMEI has exactly 15 digits.']);
      if (problems.length) return showLocalErrors(imeiForm, problems);
      const warn = luhnOk(v) ? '' : ' Its last digit is not a valid check digit, so networks may refuse it.';
      const ok = await confirmDialog({
        title: `Write the IMEI ${v} to ${id}?`,
        message: `The modem's current IMEI${currentImei() ? ` (${currentImei()})` : ''} is replaced.${warn}`,
        confirmLabel: 'Write IMEI',
      });
      if (!ok) return;
      await post(`/modems/${seg(id)}/imei`, { imei: v });
      showStatus(imeiForm, 'ok', `The IMEI of ${id} was written. The modem may need a restart to report it.`);
    });

    loadModems()
      .then((list) => {
        modems = list;
        for (const sel of [simModem.input, imeiModem.input]) sel.replaceChildren(...modemOptions(list).map((o) => h('option', { value: o.value }, o.label)));
        showCurrentImei();
        if (!list.length) {
          showStatus(simForm, 'info', 'No modems are configured.');
          showStatus(imeiForm, 'info', 'No modems are configured.');
        }
      })
      .catch((e) => {
        if (e.status === 401) return;
        showStatus(simForm, 'error', `The modem list could not be loaded: ${describeError(e)}`);
      });
  },
};
