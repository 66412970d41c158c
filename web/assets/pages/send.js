// Send SMS: any modem (also those the API does not use), receiver, text with a live counter.
// The inbox's "Reply" opens this page with the receiver (and modem) filled in.

import { h, pageHeader } from '../dom.js';
import { post, loadModems, describeError } from '../api.js';
import { field, fieldset, formStatus, submitButton, onSubmit, showLocalErrors, showStatus } from '../forms.js';
import { planSms, describePlan, MAX_PARTS } from '../sms.js';
import { modemOptions } from './modem-format.js';

export default {
  id: 'send',
  title: 'Send SMS',
  render(container, ctx) {
    const prefill = ctx.state || {};
    const modem = field({ id: 'send-modem', name: 'modem_id', label: 'Modem', type: 'select', options: [{ value: '', label: 'Automatic (route as the API does)' }], help: 'A modem chosen here sends even if the API does not use it.' });
    const receiver = field({
      id: 'send-receiver',
      name: 'receiver',
      label: 'Receiver',
      type: 'tel',
      inputmode: 'tel',
      autocomplete: 'off',
      required: true,
      value: prefill.receiver || '',
      help: 'International (62812…, +62812…) or national (0812…) form.',
    });
    const message = field({ id: 'send-message', name: 'message', label: 'Message', type: 'textarea', rows: 5, required: true, value: prefill.message || '' });
    const counter = h('p', { class: 'counter', id: 'send-counter', testid: 'send-counter' });
    message.input.setAttribute('aria-describedby', `${message.input.getAttribute('aria-describedby')} send-counter`);
    message.el.insertBefore(counter, message.el.querySelector('.field-error'));

    const form = h(
      'form',
      { class: 'stack narrow', testid: 'send-form' },
      formStatus('send-form-status'),
      fieldset('Message', modem.el, receiver.el, message.el),
      h('div', { class: 'actions' }, submitButton('Send', { testid: 'send-submit' })),
    );

    const updateCounter = () => {
      const plan = planSms(message.input.value);
      let text = describePlan(plan);
      if (plan.nonGsm.length) text += ` · UCS-2 because of: ${plan.nonGsm.join(' ')}`;
      counter.textContent = text;
      counter.classList.toggle('counter-warn', plan.parts > 1 || plan.encoding === 'UCS-2');
      counter.classList.toggle('counter-bad', plan.parts > MAX_PARTS);
    };
    message.input.addEventListener('input', updateCounter);
    updateCounter();

    onSubmit(form, async () => {
      const problems = [];
      const to = receiver.input.value.trim();
      if (!/^\+?[0-9][0-9 -]{2,30}$/.test(to)) problems.push([receiver.input, 'Enter a phone number: digits, optionally with a leading +.']);
      if (!message.input.value) problems.push([message.input, 'Enter the message text.']);
      else if (planSms(message.input.value).parts > MAX_PARTS) problems.push([message.input, `The text needs more than ${MAX_PARTS} parts.`]);
      if (problems.length) return showLocalErrors(form, problems);
      const body = { receiver: to.replace(/[ -]/g, ''), message: message.input.value };
      if (modem.input.value) body.modem_id = modem.input.value;
      const answer = await post('/sms', body);
      const parts = typeof answer.parts === 'number' ? answer.parts : 1;
      if (!answer.modem_id) {
        // An answer without a modem: accepted into the queue, not yet handed to a modem.
        showStatus(form, 'info', 'The message was queued; no modem has taken it yet. The SMS report shows the outcome.');
        message.input.value = '';
        updateCounter();
        return;
      }
      showStatus(
        form,
        'ok',
        `Sent: modem ${answer.modem_id} accepted the message (${parts} part${parts === 1 ? '' : 's'}${answer.message_reference !== undefined ? `, reference ${answer.message_reference}` : ''}).`,
      );
      message.input.value = '';
      updateCounter();
    });

    container.append(pageHeader('Send SMS'), form);

    loadModems()
      .then((list) => {
        const wanted = prefill.modem_id || modem.input.value;
        modem.input.replaceChildren(...modemOptions(list, { auto: true }).map((o) => h('option', { value: o.value }, o.label)));
        if (wanted && list.some((m) => m.id === wanted)) modem.input.value = wanted;
      })
      .catch((e) => {
        if (e.status !== 401) showStatus(form, 'error', `The modem list could not be loaded: ${describeError(e)}`);
      });
    if (prefill.receiver) message.input.focus();
  },
};
