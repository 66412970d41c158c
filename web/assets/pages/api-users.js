// API users: the accounts REST clients log in with (HTTP Basic). Add, change password, remove.

import { h, clear, timeEl, table, tableWrap, td, pageHeader } from '../dom.js';
import { get, post, del, seg, describeError } from '../api.js';
import {
  field,
  formStatus,
  submitButton,
  button,
  onSubmit,
  showLocalErrors,
  showStatus,
  confirmDialog,
  formDialog,
  notify,
  checkName,
  checkPassword,
  NAME_HELP,
  PASSWORD_HELP,
} from '../forms.js';

export default {
  id: 'api-users',
  title: 'API users',
  render(container) {
    const name = field({ id: 'api-user-name', name: 'name', label: 'User name', autocomplete: 'off', required: true, autocapitalize: 'none', spellcheck: 'false', help: NAME_HELP });
    const pw = field({ id: 'api-user-password', name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', required: true, help: PASSWORD_HELP });
    const form = h('form', { class: 'stack narrow', testid: 'api-user-form' }, formStatus('api-user-form-status'), name.el, pw.el, h('div', { class: 'actions' }, submitButton('Add API user', { testid: 'api-user-add' })));
    const status = h('p', { class: 'form-status form-status-error', role: 'alert', hidden: true, testid: 'api-users-error' });
    const { table: tbl, tbody } = table('api-users-table', 'API users', ['Name', 'Created', 'Actions'], 'responsive');
    const empty = h('p', { class: 'muted', testid: 'api-users-empty', hidden: true }, 'No API user exists: no client can use the REST API yet.');

    container.append(
      pageHeader('API users'),
      h('p', { class: 'muted' }, 'Clients of the REST API (OTP, SMS, block list) log in with one of these accounts over HTTP Basic authentication.'),
      h('section', { 'aria-labelledby': 'au-list' }, h('h2', { id: 'au-list' }, 'Accounts'), status, tableWrap(tbl, 'API users'), empty),
      h('section', { 'aria-labelledby': 'au-add' }, h('h2', { id: 'au-add' }, 'Add an API user'), form),
    );

    function changePassword(user) {
      formDialog({
        title: `New password for ${user}`,
        testid: 'api-user-password-dialog',
        build(dform, close) {
          const npw = field({ id: 'api-user-new-password', name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', required: true, help: PASSWORD_HELP });
          const npw2 = field({ id: 'api-user-new-password2', name: 'password2', label: 'Repeat the new password', type: 'password', autocomplete: 'new-password', required: true });
          dform.setAttribute('data-testid', 'api-user-password-form');
          dform.append(
            formStatus('api-user-password-form-status'),
            npw.el,
            npw2.el,
            h('div', { class: 'dialog-actions' }, button('Cancel', { testid: 'api-user-password-cancel', onclick: close }), submitButton('Change password', { testid: 'api-user-password-save' })),
          );
          onSubmit(dform, async () => {
            const problems = [];
            checkPassword(npw.input, problems, npw2.input);
            if (problems.length) return showLocalErrors(dform, problems);
            await post(`/api-users/${seg(user)}/password`, { password: npw.input.value });
            close();
            notify(`The password of ${user} was changed. Clients using the old one will be refused.`);
          });
        },
      });
    }

    async function remove(user) {
      const ok = await confirmDialog({ title: `Remove the API user ${user}?`, message: 'Clients that log in with this account will be refused at once.', confirmLabel: 'Remove user' });
      if (!ok) return;
      try {
        await del(`/api-users/${seg(user)}`);
        notify(`The API user ${user} was removed.`);
        await load();
      } catch (e) {
        if (e.status !== 401) notify(describeError(e), 'error');
      }
    }

    async function load() {
      try {
        const data = await get('/api-users');
        const users = Array.isArray(data.users) ? data.users : [];
        clear(tbody);
        for (const u of users) {
          tbody.append(
            h(
              'tr',
              { testid: 'api-user-row', 'data-name': u.name },
              td('Name', u.name),
              td('Created', timeEl(u.created_unix)),
              td(
                'Actions',
                h(
                  'div',
                  { class: 'row-actions' },
                  button('Change password', { class: 'btn-small', testid: 'api-user-change-password', 'aria-label': `Change the password of ${u.name}`, onclick: () => changePassword(u.name) }),
                  button('Remove', { class: 'btn-small btn-danger', testid: 'api-user-remove', 'aria-label': `Remove ${u.name}`, onclick: () => remove(u.name) }),
                ),
              ),
            ),
          );
        }
        empty.hidden = users.length > 0;
        status.hidden = true;
      } catch (e) {
        if (e.status === 401) return;
        status.textContent = describeError(e);
        status.hidden = false;
      }
    }

    onSubmit(form, async () => {
      const problems = [];
      checkName(name.input, problems);
      checkPassword(pw.input, problems);
      if (problems.length) return showLocalErrors(form, problems);
      const answer = await post('/api-users', { name: name.input.value, password: pw.input.value });
      const created = answer.name || name.input.value;
      name.input.value = '';
      pw.input.value = '';
      showStatus(form, 'ok', `The API user ${created} was added.`);
      await load();
    });

    load();
  },
};
