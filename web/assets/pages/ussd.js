// USSD console: send a code on one modem, answer a menu that waits for input, cancel the session.
// Each modem keeps its own transcript while the page is open.

import { h, clear, fmtClock, timeEl, pageHeader } from '../dom.js';
import { post, loadModems, describeError } from '../api.js';
import { field, fieldset, formStatus, submitButton, button, onSubmit, showLocalErrors, showStatus, clearErrors, showError, busy } from '../forms.js';
import { modemOptions } from './modem-format.js';

export default {
  id: 'ussd',
  title: 'USSD',
  render(container) {
    const sessions = new Map(); // modem id → {lines: [{dir, text, time}], replyable}
    const sessionOf = (id) => {
      if (!sessions.has(id)) sessions.set(id, { lines: [], replyable: false });
      return sessions.get(id);
    };

    const modem = field({ id: 'ussd-modem', name: 'modem_id', label: 'Modem', type: 'select', options: [] });
    const code = field({ id: 'ussd-code', name: 'code', label: 'USSD code', inputmode: 'tel', autocomplete: 'off', required: true, placeholder: '*123#', help: 'For example *123# (balance) or *100*1#.' });
    const form = h('form', { class: 'stack narrow', testid: 'ussd-form' }, formStatus('ussd-form-status'), fieldset('Request', modem.el, code.el), h('div', { class: 'actions' }, submitButton('Send code', { testid: 'ussd-submit' })));

    const transcript = h('ol', { class: 'transcript', testid: 'ussd-transcript', 'aria-live': 'polite', 'aria-label': 'USSD conversation' });
    const transcriptEmpty = h('p', { class: 'muted', testid: 'ussd-transcript-empty' }, 'No USSD session on this modem yet.');

    const replyText = field({ id: 'ussd-reply-text', name: 'text', label: 'Your answer', autocomplete: 'off', required: true, inputmode: 'text' });
    const replyForm = h(
      'form',
      { class: 'stack narrow', testid: 'ussd-reply-form', hidden: true },
      formStatus('ussd-reply-form-status'),
      replyText.el,
      h('div', { class: 'actions' }, submitButton('Send answer', { testid: 'ussd-reply-submit' })),
    );
    const cancel = button('End session', { class: 'btn-danger', testid: 'ussd-cancel' });
    const conversation = h(
      'section',
      { class: 'card', 'aria-labelledby': 'ussd-conv' },
      h('div', { class: 'section-head' }, h('h2', { id: 'ussd-conv' }, 'Conversation'), cancel),
      transcriptEmpty,
      transcript,
      replyForm,
    );

    container.append(pageHeader('USSD'), form, conversation);

    function paint() {
      const s = sessionOf(modem.input.value);
      clear(transcript);
      for (const line of s.lines) {
        transcript.append(
          h(
            'li',
            { class: ['ussd-line', `ussd-${line.dir}`], testid: `ussd-line-${line.dir}` },
            h('span', { class: 'ussd-who' }, line.dir === 'out' ? 'You' : line.dir === 'in' ? 'Network' : 'Note', ' · ', timeEl(line.time, fmtClock)),
            h('span', { class: 'ussd-text' }, line.text),
          ),
        );
      }
      transcriptEmpty.hidden = s.lines.length > 0;
      replyForm.hidden = !s.replyable;
    }

    function add(modemId, dir, text) {
      sessionOf(modemId).lines.push({ dir, text, time: Math.floor(Date.now() / 1000) });
    }

    function answered(modemId, answer) {
      const s = sessionOf(modemId);
      add(modemId, 'in', typeof answer.response === 'string' && answer.response ? answer.response : '(empty answer)');
      s.replyable = Boolean(answer.replyable);
      if (!s.replyable) add(modemId, 'note', 'The network ended the session.');
    }

    onSubmit(form, async () => {
      const id = modem.input.value;
      const c = code.input.value.trim();
      const problems = [];
      if (!id) problems.push([modem.input, 'Choose a modem.']);
      if (!/^[0-9*#+]{1,160}$/.test(c)) problems.push([code.input, 'Use digits, * and # only, for example *123#.']);
      if (problems.length) return showLocalErrors(form, problems);
      add(id, 'out', c);
      paint();
      try {
        answered(id, await post('/ussd', { modem_id: id, code: c }));
      } catch (e) {
        add(id, 'note', `No answer: ${describeError(e)}`);
        sessionOf(id).replyable = false;
        throw e;
      } finally {
        paint();
      }
      if (sessionOf(id).replyable) replyText.input.focus();
    });

    onSubmit(replyForm, async () => {
      const id = modem.input.value;
      const text = replyText.input.value.trim();
      if (!text) return showLocalErrors(replyForm, [[replyText.input, 'Enter your answer (often a menu number).']]);
      add(id, 'out', text);
      paint();
      try {
        answered(id, await post('/ussd/reply', { modem_id: id, text }));
        replyText.input.value = '';
      } catch (e) {
        add(id, 'note', `No answer: ${describeError(e)}`);
        throw e;
      } finally {
        paint();
      }
      if (sessionOf(id).replyable) replyText.input.focus();
    });

    cancel.addEventListener('click', async () => {
      const id = modem.input.value;
      if (!id) return;
      clearErrors(form);
      try {
        await busy(conversation, () => post('/ussd/cancel', { modem_id: id }));
        sessionOf(id).replyable = false;
        add(id, 'note', 'Session ended.');
        paint();
      } catch (e) {
        if (e.status !== 401) showError(form, e);
      }
    });

    modem.input.addEventListener('change', () => {
      clearErrors(form);
      clearErrors(replyForm);
      paint();
    });

    loadModems()
      .then((list) => {
        const opts = modemOptions(list);
        modem.input.replaceChildren(...opts.map((o) => h('option', { value: o.value }, o.label)));
        if (!list.length) showStatus(form, 'info', 'No modems are configured.');
        paint();
      })
      .catch((e) => {
        if (e.status !== 401) showStatus(form, 'error', `The modem list could not be loaded: ${describeError(e)}`);
      });
    paint();
  },
};
