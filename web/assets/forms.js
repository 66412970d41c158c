// Form building blocks: labelled fields, error display next to the field the server names,
// a busy state while a request runs, the confirmation dialog and the message area.

import { h, clear, uid } from './dom.js';
import { ApiError, describeError } from './api.js';

// ---- fields ---------------------------------------------------------------------------------

/**
 * A labelled input. opts: id, name, label, type, value, help, required, autocomplete,
 * inputmode, min, max, minlength, maxlength, pattern, placeholder, testid (defaults to id),
 * rows (textarea), options ([{value, label}] for a select).
 * Returns {el, input}. The input's `name` is what server errors are matched against.
 */
export function field(opts) {
  const id = opts.id || uid('f');
  const helpId = opts.help ? `${id}-help` : null;
  const errorId = `${id}-error`;
  const common = {
    id,
    name: opts.name || id,
    testid: opts.testid || id,
    required: opts.required,
    autocomplete: opts.autocomplete,
    'aria-describedby': [helpId, errorId].filter(Boolean).join(' '),
    disabled: opts.disabled,
    readonly: opts.readonly,
  };
  let input;
  if (opts.type === 'select') {
    input = h(
      'select',
      { ...common, value: opts.value },
      (opts.options || []).map((o) => h('option', { value: o.value, disabled: o.disabled }, o.label)),
    );
  } else if (opts.type === 'textarea') {
    input = h('textarea', {
      ...common,
      rows: opts.rows || 4,
      maxlength: opts.maxlength,
      placeholder: opts.placeholder,
      value: opts.value,
      spellcheck: opts.spellcheck,
    });
  } else {
    input = h('input', {
      ...common,
      type: opts.type || 'text',
      inputmode: opts.inputmode,
      min: opts.min,
      max: opts.max,
      step: opts.step,
      minlength: opts.minlength,
      maxlength: opts.maxlength,
      pattern: opts.pattern,
      placeholder: opts.placeholder,
      spellcheck: opts.spellcheck,
      autocapitalize: opts.autocapitalize,
      value: opts.value,
    });
  }
  const el = h(
    'div',
    { class: ['field', opts.class] },
    h('label', { for: id }, opts.label, opts.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    input,
    opts.help ? h('p', { class: 'help', id: helpId }, opts.help) : null,
    h('p', { class: 'field-error', id: errorId, testid: `${opts.testid || id}-error`, hidden: true }),
  );
  return { el, input };
}

/** A checkbox with its label after it. */
export function checkbox(opts) {
  const id = opts.id || uid('c');
  const helpId = opts.help ? `${id}-help` : null;
  const errorId = `${id}-error`;
  const input = h('input', {
    type: 'checkbox',
    id,
    name: opts.name || id,
    testid: opts.testid || id,
    checked: Boolean(opts.checked),
    disabled: opts.disabled,
    'aria-describedby': [helpId, errorId].filter(Boolean).join(' '),
  });
  const el = h(
    'div',
    { class: ['field', 'field-check', opts.class] },
    input,
    h('label', { for: id }, opts.label),
    opts.help ? h('p', { class: 'help', id: helpId }, opts.help) : null,
    h('p', { class: 'field-error', id: errorId, testid: `${opts.testid || id}-error`, hidden: true }),
  );
  return { el, input };
}

export function fieldset(legend, ...children) {
  return h('fieldset', null, h('legend', null, legend), ...children);
}

export function button(label, attrs = {}) {
  return h('button', { type: 'button', ...attrs, class: ['btn', attrs.class] }, label);
}

export function submitButton(label, attrs = {}) {
  return h('button', { type: 'submit', ...attrs, class: ['btn', 'btn-primary', attrs.class] }, label);
}

// ---- form status and errors -----------------------------------------------------------------

/** The message box at the top of a form (role=alert for errors). */
export function formStatus(testid) {
  return h('div', { class: 'form-status', testid, hidden: true });
}

function statusBox(form) {
  return form.querySelector(':scope > .form-status') || form.querySelector('.form-status');
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const box = statusBox(form);
  if (box) {
    box.hidden = true;
    box.removeAttribute('role');
    box.className = 'form-status';
    clear(box);
  }
}

// Server error paths look like "api.http.port: ..." or "modems[2].port: ...". A field matches when
// its name is the whole path or the path's last part.
// A trailing index ("recipient_prefix[1]") points at the field that holds the whole list.
function findField(form, rawPath) {
  const path = rawPath.trim().replace(/(\[\d+\])+$/, '');
  const candidates = [...form.querySelectorAll('input[name], select[name], textarea[name]')].filter((el) => el.type !== 'hidden');
  const exact = candidates.find((el) => el.name === path);
  if (exact) return exact;
  return candidates.find((el) => path.endsWith(`.${el.name}`) || path.endsWith(`]${el.name}`)) || null;
}

export function setFieldError(input, message) {
  input.setAttribute('aria-invalid', 'true');
  const p = document.getElementById(`${input.id}-error`);
  if (p) {
    p.textContent = p.textContent ? `${p.textContent} ${message}` : message;
    p.hidden = false;
  }
}

/** Shows a message (and a list) in the form's status box. kind: 'error' | 'ok' | 'info'. */
export function showStatus(form, kind, message, list = []) {
  const box = statusBox(form);
  if (!box) return;
  clear(box);
  box.className = `form-status form-status-${kind}`;
  if (kind === 'error') box.setAttribute('role', 'alert');
  else box.setAttribute('role', 'status');
  box.append(h('p', null, message));
  if (list.length) box.append(h('ul', null, list.map((t) => h('li', null, t))));
  box.hidden = false;
}

/**
 * Shows an error from a request: the sentence in the status box, each "path: problem" next to
 * the field it names, and the problems that match no field as a list under the sentence.
 */
export function showError(form, error) {
  clearErrors(form);
  const message = describeError(error);
  const leftover = [];
  let first = null;
  if (error instanceof ApiError) {
    for (const item of error.errors) {
      const cut = item.indexOf(': ');
      const path = cut > 0 ? item.slice(0, cut) : '';
      const input = path ? findField(form, path) : null;
      if (input) {
        setFieldError(input, cut > 0 ? item.slice(cut + 2) : item);
        first = first || input;
      } else {
        leftover.push(item);
      }
    }
  }
  showStatus(form, 'error', message, leftover);
  if (first) first.focus();
}

/** Client-side problems, before anything is sent: [[input, message], ...]. */
export function showLocalErrors(form, problems, message = 'Please correct the marked fields.') {
  clearErrors(form);
  for (const [input, text] of problems) setFieldError(input, text);
  showStatus(form, 'error', message);
  if (problems.length) problems[0][0].focus();
}

/** Runs fn with the form's buttons disabled and aria-busy set. */
export async function busy(form, fn) {
  const buttons = [...form.querySelectorAll('button')].filter((b) => !b.disabled);
  form.setAttribute('aria-busy', 'true');
  for (const b of buttons) b.disabled = true;
  try {
    return await fn();
  } finally {
    form.removeAttribute('aria-busy');
    for (const b of buttons) if (b.isConnected) b.disabled = false;
  }
}

/**
 * Wires a form: on submit, clears old errors, runs handler(form) with the form busy, and shows a
 * thrown error in the form. The handler may call showStatus for success.
 */
export function onSubmit(form, handler) {
  form.noValidate = true; // our own messages, the same on every browser
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (form.getAttribute('aria-busy') === 'true') return;
    clearErrors(form);
    try {
      await busy(form, () => handler(form));
    } catch (e) {
      if (form.isConnected) showError(form, e);
      else notify(describeError(e), 'error');
      if (!(e instanceof ApiError)) console.error(e); // a bug in the page, not an answer
    }
  });
  return form;
}

// ---- checks ---------------------------------------------------------------------------------

export const NAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;
export const NAME_HELP = '1 to 64 letters, digits, or . _ @ -';
export const PASSWORD_HELP = '8 to 1024 characters.';

export function checkName(input, problems) {
  if (!NAME_RE.test(input.value)) problems.push([input, `Use ${NAME_HELP}.`]);
}

export function checkPassword(input, problems, repeat) {
  const n = [...input.value].length;
  if (n < 8 || n > 1024) problems.push([input, 'The password must have 8 to 1024 characters.']);
  else if (repeat && repeat.value !== input.value) problems.push([repeat, 'The two passwords differ.']);
}

// ---- confirmation dialog --------------------------------------------------------------------

/**
 * Asks before something that cannot be undone. Resolves true when confirmed.
 * A <dialog> rather than window.confirm(): it can be styled, read by screen readers as a modal,
 * and clicked by end-to-end tests (data-testid confirm-dialog / confirm-yes / confirm-no).
 */
export function confirmDialog({ title, message, confirmLabel = 'Remove', danger = true }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const yes = h('button', { type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], testid: 'confirm-yes' }, confirmLabel);
    const no = h('button', { type: 'button', class: 'btn', testid: 'confirm-no' }, 'Cancel');
    const dialog = h(
      'dialog',
      { class: 'dialog', testid: 'confirm-dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      message ? h('p', null, message) : null,
      h('div', { class: 'dialog-actions' }, no, yes),
    );
    let result = false;
    yes.addEventListener('click', () => {
      result = true;
      dialog.close();
    });
    no.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

/**
 * A modal holding a form (change a password). build(form, close) fills the form and wires it;
 * close() ends the dialog.
 */
export function formDialog({ title, testid, build }) {
  const titleId = uid('dlg');
  const form = h('form', { class: 'stack' });
  const dialog = h('dialog', { class: 'dialog', testid, 'aria-labelledby': titleId }, h('h2', { id: titleId }, title), form);
  const close = () => dialog.close();
  dialog.addEventListener('close', () => dialog.remove());
  build(form, close);
  document.body.append(dialog);
  dialog.showModal();
  const first = form.querySelector('input, select, textarea');
  if (first) first.focus();
  return dialog;
}

// ---- page-wide messages ---------------------------------------------------------------------

let flashTimer = null;

/** A short message in the page-wide live region (announced by screen readers). */
export function notify(message, kind = 'ok') {
  const box = document.getElementById('flash');
  if (!box) return;
  clearTimeout(flashTimer);
  clear(box);
  box.className = `flash flash-${kind} flash-show`;
  box.append(
    h('p', null, message),
    h('button', { type: 'button', class: 'flash-close', 'aria-label': 'Dismiss message', testid: 'flash-close', onclick: () => hideFlash() }, '×'),
  );
  // Errors stay until dismissed or replaced; the rest fade after a while.
  if (kind !== 'error') flashTimer = setTimeout(hideFlash, 6000);
}

export function hideFlash() {
  const box = document.getElementById('flash');
  if (!box) return;
  clearTimeout(flashTimer);
  box.className = 'flash';
  clear(box);
}
