// Administrators: accounts of this admin interface. Add, remove (not yourself, not the last one),
// and change your own password (which renews the session and its CSRF token).

import { h, clear, timeEl, table, tableWrap, td, badge, pageHeader } from '../dom.js';
import { get, post, del, seg, describeError } from '../api.js';
import { field, formStatus, submitButton, button, onSubmit, showLocalErrors, showStatus, confirmDialog, notify, checkName, checkPassword, NAME_HELP, PASSWORD_HELP } from '../forms.js';

export default {
  id: 'admins',
  title: 'Administrators',
  render(container, ctx) {
    const me = ctx.session.user;

    const name = field({ id: 'admin-name', name: 'name', label: 'User name', autocomplete: 'off', required: true, autocapitalize: 'none', spellcheck: 'false', help: NAME_HELP });
    const pw = field({ id: 'admin-password', name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', required: true, help: PASSWORD_HELP });
    const addForm = h('form', { class: 'stack narrow', testid: 'admin-form' }, formStatus('admin-form-status'), name.el, pw.el, h('div', { class: 'actions' }, submitButton('Add administrator', { testid: 'admin-add' })));

    const cur = field({ id: 'password-current', name: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password', required: true });
    const npw = field({ id: 'password-new', name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', required: true, help: PASSWORD_HELP });
    const npw2 = field({ id: 'password-new2', name: 'new_password2', label: 'Repeat the new password', type: 'password', autocomplete: 'new-password', required: true });
    const pwForm = h('form', { class: 'stack narrow', testid: 'password-form' }, formStatus('password-form-status'), cur.el, npw.el, npw2.el, h('div', { class: 'actions' }, submitButton('Change my password', { testid: 'password-submit' })));

    const status = h('p', { class: 'form-status form-status-error', role: 'alert', hidden: true, testid: 'admins-error' });
    const { table: tbl, tbody } = table('admins-table', 'Administrators', ['Name', 'Created', 'Actions'], 'responsive');

    container.append(
      pageHeader('Administrators'),
      h('section', { 'aria-labelledby': 'ad-list' }, h('h2', { id: 'ad-list' }, 'Accounts'), status, tableWrap(tbl, 'Administrators')),
      h('section', { 'aria-labelledby': 'ad-add' }, h('h2', { id: 'ad-add' }, 'Add an administrator'), addForm),
      h('section', { 'aria-labelledby': 'ad-pw' }, h('h2', { id: 'ad-pw' }, `Change my password (${me})`), h('p', { class: 'muted' }, 'Your other sessions (other browsers) are logged out.'), pwForm),
    );

    async function remove(user) {
      const ok = await confirmDialog({ title: `Remove the administrator ${user}?`, message: 'Their sessions end at once.', confirmLabel: 'Remove administrator' });
      if (!ok) return;
      try {
        await del(`/admins/${seg(user)}`);
        notify(`The administrator ${user} was removed.`);
        await load();
      } catch (e) {
        if (e.status !== 401) notify(describeError(e), 'error');
      }
    }

    async function load() {
      try {
        const data = await get('/admins');
        const list = Array.isArray(data.admins) ? data.admins : [];
        clear(tbody);
        for (const a of list) {
          const self = a.name === me;
          tbody.append(
            h(
              'tr',
              { testid: 'admin-row', 'data-name': a.name },
              td('Name', a.name, self ? badge('you', 'info') : null),
              td('Created', timeEl(a.created_unix)),
              td(
                'Actions',
                self || list.length < 2
                  ? h('span', { class: 'muted' }, self ? 'You cannot remove yourself.' : 'The last administrator stays.')
                  : button('Remove', { class: 'btn-small btn-danger', testid: 'admin-remove', 'aria-label': `Remove ${a.name}`, onclick: () => remove(a.name) }),
              ),
            ),
          );
        }
        status.hidden = true;
      } catch (e) {
        if (e.status === 401) return;
        status.textContent = describeError(e);
        status.hidden = false;
      }
    }

    onSubmit(addForm, async () => {
      const problems = [];
      checkName(name.input, problems);
      checkPassword(pw.input, problems);
      if (problems.length) return showLocalErrors(addForm, problems);
      const answer = await post('/admins', { name: name.input.value, password: pw.input.value });
      const created = answer.name || name.input.value;
      name.input.value = '';
      pw.input.value = '';
      showStatus(addForm, 'ok', `The administrator ${created} was added.`);
      await load();
    });

    onSubmit(pwForm, async () => {
      const problems = [];
      if (!cur.input.value) problems.push([cur.input, 'Enter your current password.']);
      checkPassword(npw.input, problems, npw2.input);
      if (problems.length) return showLocalErrors(pwForm, problems);
      let answer;
      try {
        // A 401 here may mean "wrong current password" rather than "session ended": ask the
        // session endpoint which one before leaving the page.
        answer = await post('/password', { current_password: cur.input.value, new_password: npw.input.value }, { handle401: false });
      } catch (e) {
        if (e.status === 401) {
          const s = await get('/session', { handle401: false }).catch(() => null);
          if (s && !s.logged_in) {
            await get('/admins'); // a request with the normal 401 handling leads to the login page
            return;
          }
          cur.input.value = '';
          showLocalErrors(pwForm, [[cur.input, 'The current password is not right.']], describeError(e));
          return;
        }
        throw e;
      }
      if (answer.csrf_token) ctx.setCsrfToken(answer.csrf_token);
      ctx.restartLive(); // the socket belonged to the old session id
      cur.input.value = '';
      npw.input.value = '';
      npw2.input.value = '';
      showStatus(pwForm, 'ok', 'Your password was changed.');
    });

    load();
  },
};
