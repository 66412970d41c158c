// The two pages shown without a session: creating the first administrator, and logging in.

import { h } from '../dom.js';
import { post, get } from '../api.js';
import { field, formStatus, submitButton, onSubmit, showLocalErrors, showStatus, checkName, checkPassword, NAME_HELP, PASSWORD_HELP } from '../forms.js';

function authFrame(session, title, intro, form) {
  return h(
    'main',
    { class: 'auth', id: 'main' },
    h(
      'div',
      { class: 'card auth-card' },
      h('div', { class: 'auth-brand' }, h('img', { src: 'assets/icon.svg', alt: '', width: '40', height: '40' }), h('span', null, session.device_name)),
      h('h1', null, title),
      intro ? h('p', { class: 'muted' }, intro) : null,
      form,
    ),
  );
}

export function renderSetup(root, { session, message, done, restart }) {
  // The one-time code the daemon wrote to its state directory and its log at
  // first start: proof that whoever claims the box has access to it.
  const code = field({
    id: 'setup-code',
    name: 'setup_code',
    label: 'Setup code',
    autocomplete: 'off',
    required: true,
    maxlength: 64,
    autocapitalize: 'characters',
    spellcheck: 'false',
    placeholder: 'XXXXX-XXXXX',
    help: 'On the device: sudo cat /var/lib/otppi/setup-code, or the line "Setup code" in journalctl -u otppi.',
  });
  const name = field({ id: 'setup-username', name: 'username', label: 'User name', autocomplete: 'username', required: true, help: NAME_HELP, autocapitalize: 'none', spellcheck: 'false' });
  const pw = field({ id: 'setup-password', name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', required: true, help: PASSWORD_HELP });
  const pw2 = field({ id: 'setup-password2', name: 'password2', label: 'Repeat the password', type: 'password', autocomplete: 'new-password', required: true });
  const form = h('form', { class: 'stack', testid: 'setup-form' }, formStatus('setup-form-status'), code.el, name.el, pw.el, pw2.el, submitButton('Create administrator', { testid: 'setup-submit' }));
  onSubmit(form, async () => {
    const problems = [];
    if (!code.input.value.trim()) problems.push([code.input, 'Enter the setup code shown on the device.']);
    checkName(name.input, problems);
    checkPassword(pw.input, problems, pw2.input);
    if (problems.length) return showLocalErrors(form, problems);
    let answer;
    try {
      answer = await post('/setup', { setup_code: code.input.value.trim(), username: name.input.value, password: pw.input.value }, { handle401: false });
    } catch (e) {
      // Someone else finished the setup in the meantime: log in instead.
      if (e.status === 409) return restart('An administrator exists already. Please log in.');
      throw e;
    }
    // The setup answer may or may not carry the new token; the session endpoint always does.
    const fresh = answer.csrf_token ? answer : await get('/session', { handle401: false });
    done({ ...fresh, user: answer.user || fresh.user || name.input.value });
  });
  root.append(authFrame(session, 'Create the first administrator', 'No administrator exists yet. Enter the setup code of this device, then the account to create: it can log in to this page and add others.', form));
  if (message) showStatus(form, 'info', message);
  code.input.focus();
}

export function renderLogin(root, { session, message, done }) {
  const name = field({ id: 'login-username', name: 'username', label: 'User name', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pw = field({ id: 'login-password', name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'stack', testid: 'login-form' }, formStatus('login-form-status'), name.el, pw.el, submitButton('Log in', { testid: 'login-submit' }));
  onSubmit(form, async () => {
    const problems = [];
    if (!name.input.value) problems.push([name.input, 'Enter your user name.']);
    if (!pw.input.value) problems.push([pw.input, 'Enter your password.']);
    if (problems.length) return showLocalErrors(form, problems);
    try {
      const answer = await post('/login', { username: name.input.value, password: pw.input.value }, { handle401: false });
      done(answer);
    } catch (e) {
      pw.input.value = '';
      throw e;
    }
  });
  root.append(authFrame(session, 'Log in', null, form));
  if (message) showStatus(form, 'info', message);
  name.input.focus();
}
