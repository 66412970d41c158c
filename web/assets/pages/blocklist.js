// Block list: numbers that never get an SMS. Add (normalised by the daemon), filter, remove.

import { h, clear, table, tableWrap, td, pageHeader } from '../dom.js';
import { get, post, del, seg, describeError } from '../api.js';
import { field, formStatus, submitButton, button, onSubmit, showLocalErrors, showStatus, confirmDialog, notify } from '../forms.js';

export default {
  id: 'blocklist',
  title: 'Block list',
  render(container) {
    let numbers = [];
    const msisdn = field({ id: 'blocklist-msisdn', name: 'msisdn', label: 'Phone number', type: 'tel', inputmode: 'tel', autocomplete: 'off', required: true, help: 'Any form: 0812…, 62812… or +62812…; it is stored in international form.' });
    const form = h('form', { class: 'stack narrow', testid: 'blocklist-form' }, formStatus('blocklist-form-status'), msisdn.el, h('div', { class: 'actions' }, submitButton('Block', { testid: 'blocklist-add' })));

    const filter = field({ id: 'blocklist-filter', name: 'filter', label: 'Find a number', type: 'search', inputmode: 'numeric', autocomplete: 'off', class: 'narrow' });
    const status = h('p', { class: 'form-status form-status-error', role: 'alert', hidden: true, testid: 'blocklist-error' });
    const { table: tbl, tbody } = table('blocklist-table', 'Blocked numbers', ['Number', 'Actions'], 'responsive');
    const count = h('p', { class: 'muted', testid: 'blocklist-count', 'aria-live': 'polite' });

    container.append(
      pageHeader('Block list'),
      h('section', { 'aria-labelledby': 'bl-add' }, h('h2', { id: 'bl-add' }, 'Block a number'), form),
      h('section', { 'aria-labelledby': 'bl-list' }, h('h2', { id: 'bl-list' }, 'Blocked numbers'), status, filter.el, count, tableWrap(tbl, 'Blocked numbers')),
    );

    async function remove(n) {
      const ok = await confirmDialog({ title: `Unblock ${n}?`, message: 'This number can receive SMS again.', confirmLabel: 'Unblock' });
      if (!ok) return;
      try {
        await del(`/blocklist/${seg(n)}`);
        notify(`${n} was unblocked.`);
        await load();
      } catch (e) {
        if (e.status !== 401) notify(describeError(e), 'error');
      }
    }

    function render() {
      const q = filter.input.value.replace(/\D/g, '');
      const shown = q ? numbers.filter((n) => n.includes(q)) : numbers;
      clear(tbody);
      for (const n of shown) {
        tbody.append(
          h(
            'tr',
            { testid: 'blocklist-row', 'data-msisdn': n },
            td('Number', n),
            td('Actions', button('Unblock', { class: 'btn-small btn-danger', testid: 'blocklist-remove', 'aria-label': `Unblock ${n}`, onclick: () => remove(n) })),
          ),
        );
      }
      count.textContent = numbers.length === 0 ? 'No number is blocked.' : q ? `${shown.length} of ${numbers.length} numbers` : `${numbers.length} number${numbers.length === 1 ? '' : 's'} blocked`;
    }

    async function load() {
      try {
        const data = await get('/blocklist');
        numbers = Array.isArray(data.numbers) ? data.numbers.map(String) : [];
        status.hidden = true;
        render();
      } catch (e) {
        if (e.status === 401) return;
        status.textContent = describeError(e);
        status.hidden = false;
      }
    }

    filter.input.addEventListener('input', render);
    onSubmit(form, async () => {
      const v = msisdn.input.value.trim();
      if (!/^\+?[0-9][0-9 -]{2,30}$/.test(v)) return showLocalErrors(form, [[msisdn.input, 'Enter a phone number: digits, optionally with a leading +.']]);
      const answer = await post('/blocklist', { msisdn: v.replace(/[ -]/g, '') });
      msisdn.input.value = '';
      showStatus(form, 'ok', `${answer.msisdn || v} is blocked.`);
      await load();
    });

    load();
  },
};
