// Small helpers over playwright-core pages: waiting for text and attributes (playwright-core has
// no `expect`), and the two ways in (first administrator, login).

import { waitFor } from './harness.mjs';

export const byId = (page, id) => page.getByTestId(id);

/** Waits until the locator's text matches re; the error names what was shown instead. */
export async function expectText(locator, re, what, timeoutMs = 10000) {
  let last = '(nothing)';
  await waitFor(
    `${what} to read ${re}`,
    async () => {
      last = (await locator.textContent({ timeout: 1000 })) ?? '';
      return re.test(last);
    },
    timeoutMs,
  ).catch((e) => {
    throw new Error(`${e.message}; it reads: ${JSON.stringify(last.trim().slice(0, 300))}`);
  });
  return last;
}

export async function expectAttribute(locator, name, value, what, timeoutMs = 10000) {
  let last = null;
  await waitFor(
    `${what}: ${name}="${value}"`,
    async () => {
      last = await locator.getAttribute(name, { timeout: 1000 });
      return last === value;
    },
    timeoutMs,
  ).catch((e) => {
    throw new Error(`${e.message}; it is ${JSON.stringify(last)}`);
  });
}

/** A form's status box: its kind (ok, error, info) and its sentence. */
export async function expectStatus(page, testid, kind, re, timeoutMs = 10000) {
  const box = byId(page, testid);
  let last = '';
  await waitFor(
    `${testid} to show a ${kind} message matching ${re}`,
    async () => {
      if (!(await box.isVisible())) return false;
      const cls = (await box.getAttribute('class')) || '';
      last = `[${cls}] ${((await box.textContent()) || '').trim()}`;
      return cls.split(/\s+/).includes(`form-status-${kind}`) && re.test(last);
    },
    timeoutMs,
  ).catch((e) => {
    throw new Error(`${e.message}; shown: ${JSON.stringify(last)}`);
  });
  return last;
}

export async function goto(page, base, route) {
  await page.goto(`${base}/#/${route}`);
  await byId(page, `page-${route.split('/')[0]}`).waitFor();
}

/** Opens the app and logs in through the login page (also when a session is already there). */
export async function login(page, base, { user, password }) {
  await page.goto(`${base}/`);
  const form = byId(page, 'login-form');
  const shell = byId(page, 'app-header');
  await form.or(shell).first().waitFor();
  if (await shell.isVisible()) return;
  await byId(page, 'login-username').fill(user);
  await byId(page, 'login-password').fill(password);
  await byId(page, 'login-submit').click();
  await shell.waitFor();
  await expectText(byId(page, 'current-user'), new RegExp(`^${user}$`), 'the header user');
}

/** fetch() from inside the page (same origin, the page's cookie): {status, body}. */
export function pageFetch(page, url, init = {}) {
  return page.evaluate(
    async ([u, i]) => {
      const r = await fetch(u, { credentials: 'same-origin', cache: 'no-store', ...i });
      return { status: r.status, body: await r.text() };
    },
    [url, init],
  );
}
