// The end-to-end scenarios of the admin UI (issue #6), in order: each may rely on what the ones
// before it did (the first creates the administrator). Every scenario ends by checking that no
// page logged a console error, threw, violated the CSP or reached outside the daemon's origin.

import assert from 'node:assert/strict';
import { WatchedContext, REBIND_NAME } from './browser.mjs';
import { waitFor, request, serveOnce } from './harness.mjs';
import { byId, expectText, expectAttribute, expectStatus, goto, login, pageFetch } from './ui.mjs';

const HTTP_ERROR = (codes) => new RegExp(`Failed to load resource: the server responded with a status of (${codes.join('|')})`);

/** "6281234567890" → "62812*****890", as otppi-modem-sim logs a receiver. */
function masked(d) {
  return d.length >= 9 ? d.slice(0, 5) + '*'.repeat(d.length - 8) + d.slice(-3) : d;
}

export const scenarios = [
  {
    name: 'first run: the setup page creates the first administrator',
    async run(t) {
      const page = t.page;
      await page.goto(`${t.base}/`);
      await byId(page, 'setup-form').waitFor();
      assert.equal(await page.title(), `${t.deviceName} · otppi admin`);
      // A wrong setup code is refused by the daemon, with the reason under the field.
      const code = await t.gw.setupCode();
      assert.match(code, /^[0-9A-Z]{5}-[0-9A-Z]{5}$/, 'the setup code in state_dir/setup-code');
      await byId(page, 'setup-code').fill(code.startsWith('00000') ? '11111-11111' : '00000-00000');
      await byId(page, 'setup-username').fill(t.admin.user);
      await byId(page, 'setup-password').fill(t.admin.password);
      await byId(page, 'setup-password2').fill(t.admin.password);
      await t.wc.expectConsoleErrors(HTTP_ERROR([403]), 1, async () => {
        await byId(page, 'setup-submit').click();
        await expectStatus(page, 'setup-form-status', 'error', /setup code/i);
      });
      await expectText(byId(page, 'setup-code-error'), /\S/, 'the setup code error');
      // Typed as a person might: lower case, without the dash.
      await byId(page, 'setup-code').fill(code.replace('-', '').toLowerCase());
      // The page checks the repeated password itself, before anything is sent.
      await byId(page, 'setup-username').fill(t.admin.user);
      await byId(page, 'setup-password').fill(t.admin.password);
      await byId(page, 'setup-password2').fill(`${t.admin.password}x`);
      await byId(page, 'setup-submit').click();
      await expectStatus(page, 'setup-form-status', 'error', /correct/i);
      await expectText(byId(page, 'setup-password2-error'), /\S/, 'the repeated password error');
      await byId(page, 'setup-password2').fill(t.admin.password);
      await byId(page, 'setup-submit').click();
      await byId(page, 'app-header').waitFor();
      await expectText(byId(page, 'current-user'), new RegExp(`^${t.admin.user}$`), 'the header user');
      await expectText(byId(page, 'device-name'), new RegExp(`^${t.deviceName}$`), 'the device name');
      await byId(page, 'page-dashboard').waitFor();
      const session = JSON.parse((await pageFetch(page, '/admin/api/session')).body);
      assert.equal(session.setup_required, false, 'setup is still required after creating the administrator');
      assert.equal(session.logged_in, true);
      // Setup is closed now, for everyone.
      const again = await request(`${t.base}/admin/api/session`);
      assert.equal(JSON.parse(again.body).setup_required, false);
      // The code is spent: its file is gone.
      await assert.rejects(t.gw.setupCode(), /ENOENT/, 'state_dir/setup-code is still there after the setup');
    },
  },
  {
    name: 'the session cookie is HttpOnly and SameSite=Strict',
    async run(t) {
      const cookies = await t.wc.context.cookies(t.base);
      const c = cookies.find((x) => x.name === 'otppi_session');
      assert.ok(c, `no otppi_session cookie; cookies: ${cookies.map((x) => x.name).join(', ') || 'none'}`);
      assert.equal(c.httpOnly, true, 'the session cookie is not HttpOnly');
      assert.equal(c.sameSite, 'Strict', 'the session cookie is not SameSite=Strict');
      assert.equal(c.path, '/');
      assert.ok(c.value.length >= 40, `the session id looks short: ${c.value.length} characters`);
      const visible = await t.page.evaluate(() => document.cookie);
      assert.ok(!visible.includes('otppi_session'), 'scripts can read the session cookie');
    },
  },
  {
    name: 'the live indicator reaches "live"',
    async run(t) {
      await expectAttribute(byId(t.page, 'live-indicator'), 'data-state', 'live', 'the live indicator', 15000);
      await expectText(byId(t.page, 'live-indicator'), /^Live$/, 'the live indicator');
    },
  },
  {
    name: 'modems are listed with their IMEI',
    async run(t) {
      const page = t.page;
      // The dashboard's table (fed by the monitor) has every configured modem, ready.
      for (const m of t.modems) {
        const row = page.locator(`[data-testid="modem-status-row"][data-modem-id="${m.id}"]`);
        await expectText(row, /ready/i, `dashboard row of ${m.id}`, 30000);
      }
      await goto(page, t.base, 'modems');
      for (const m of t.modems) {
        const row = page.locator(`[data-testid="modem-row"][data-modem-id="${m.id}"]`);
        await expectText(row.getByTestId('modem-imei'), new RegExp(`^${m.imei}$`), `the IMEI of ${m.id}`, 20000);
        await expectText(row, new RegExp(m.name), `the modem row of ${m.id}`);
      }
      assert.equal(await page.getByTestId('modem-row').count(), t.modems.length, 'the modem list has other rows than the configured modems');
    },
  },
  {
    name: 'an SMS sent from the Send page reaches the simulator and the dashboard feed',
    async run(t) {
      const page = t.page;
      const modem = t.modems[1]; // not the default modem: the choice on the page must count
      const other = t.modems[0];
      const before = { [modem.id]: t.gw.sentBy(modem.id).length, [other.id]: t.gw.sentBy(other.id).length };

      // A second tab on the dashboard watches the live feed.
      const dash = await t.wc.newPage();
      await goto(dash, t.base, 'dashboard');
      await expectAttribute(byId(dash, 'live-indicator'), 'data-state', 'live', 'the dashboard tab\'s live indicator', 15000);

      await goto(page, t.base, 'send');
      const select = byId(page, 'send-modem');
      await waitFor(`modem ${modem.id} in the modem choice`, async () => (await select.locator(`option[value="${modem.id}"]`).count()) === 1);
      await select.selectOption(modem.id);
      await byId(page, 'send-receiver').fill('0812 3456 7890');
      await byId(page, 'send-message').fill(t.secrets.smsText);
      await expectText(byId(page, 'send-counter'), /1 SMS|1 part/i, 'the character counter');
      await byId(page, 'send-submit').click();
      await expectStatus(page, 'send-form-status', 'ok', new RegExp(`modem ${modem.id} accepted`), 30000);
      assert.equal(await byId(page, 'send-message').inputValue(), '', 'the message field is not cleared after sending');

      // At the simulator: exactly one more SMS, to the normalised number, on the chosen modem.
      await waitFor(`otppi-modem-sim of ${modem.id} to log the SMS`, () => t.gw.sentBy(modem.id).length === before[modem.id] + 1, 10000);
      const line = t.gw.sentBy(modem.id).at(-1);
      assert.equal(line, `sim: SMS to ${masked('6281234567890')} (1 parts)`);
      assert.equal(t.gw.sentBy(other.id).length, before[other.id], `the SMS also went out on ${other.id}`);

      const item = dash.locator('[data-testid="event-item"][data-kind="sms_sent"]');
      await item.first().waitFor({ timeout: 10000 });
      await expectText(item.first(), new RegExp(modem.id), 'the sms_sent event');
      const feedText = await byId(dash, 'event-feed').textContent();
      assert.ok(!feedText.includes(t.secrets.smsText), 'the event feed shows the message text');
      assert.ok(!feedText.includes('6281234567890'), 'the event feed shows the receiver unmasked');
      assert.equal(await byId(dash, 'event-feed-empty').isVisible(), false);
      await dash.close();
    },
  },
  {
    name: 'an SMS waiting on the SIM shows in the inbox',
    async run(t) {
      const page = t.page;
      const [from, text] = t.modems[0].incoming[0];
      await goto(page, t.base, 'inbox');
      const row = page.locator(`[data-testid="inbox-row"][data-modem-id="${t.modems[0].id}"]`);
      await row.first().waitFor({ timeout: 20000 });
      await expectText(row.first(), new RegExp(from.replace('+', '\\+?')), 'the inbox row');
      await row.first().getByTestId('inbox-open').click();
      await expectText(byId(page, 'inbox-message-text'), new RegExp(`^${text}$`), 'the opened message');
    },
  },
  {
    name: 'block list: add, shown, sending to it refused in words, remove',
    async run(t) {
      const page = t.page;
      const number = '6281299990001';
      const sentBefore = t.modems.map((m) => t.gw.sentBy(m.id).length);
      await goto(page, t.base, 'blocklist');
      await byId(page, 'blocklist-msisdn').fill('0812-9999-0001'); // national form, normalised by the daemon
      await byId(page, 'blocklist-add').click();
      await expectStatus(page, 'blocklist-form-status', 'ok', new RegExp(`${number} is blocked`));
      const row = page.locator(`[data-testid="blocklist-row"][data-msisdn="${number}"]`);
      await row.waitFor();
      await expectText(byId(page, 'blocklist-count'), /1 number blocked/, 'the block list count');

      await goto(page, t.base, 'send');
      await byId(page, 'send-receiver').fill('+62 812 9999 0001');
      await byId(page, 'send-message').fill('this must not be sent');
      // Exactly one request, answered 400.
      await t.wc.expectConsoleErrors(HTTP_ERROR([400]), 1, async () => {
        await byId(page, 'send-submit').click();
        await expectStatus(page, 'send-form-status', 'error', /block list/i);
      });
      assert.equal(await byId(page, 'send-message').inputValue(), 'this must not be sent', 'the refused message was cleared');
      assert.deepEqual(
        t.modems.map((m) => t.gw.sentBy(m.id).length),
        sentBefore,
        'a modem sent an SMS to a blocked number',
      );

      await goto(page, t.base, 'blocklist');
      await row.getByTestId('blocklist-remove').click();
      await byId(page, 'confirm-dialog').waitFor();
      await byId(page, 'confirm-yes').click();
      await row.waitFor({ state: 'detached' });
      await expectText(byId(page, 'flash'), new RegExp(`${number} was unblocked`), 'the page message');
      await expectText(byId(page, 'blocklist-count'), /No number is blocked/, 'the block list count');
    },
  },
  {
    name: 'the SMS report counts exactly the SMS sent',
    async run(t) {
      const page = t.page;
      await goto(page, t.base, 'report');
      await expectText(byId(page, 'report-summary'), /^1 sent, 0 failed in 7 days\.$/, 'the report summary');
      const legend = await byId(page, 'report-legend').textContent();
      assert.match(legend, new RegExp(`${t.modems[1].id} sent`), 'the report legend misses the modem that sent');
      assert.doesNotMatch(legend, new RegExp(`\\b${t.modems[0].id} sent`), `the report legend shows ${t.modems[0].id}, which sent nothing`);
      const entries = page.getByTestId('report-entry');
      assert.equal(await entries.count(), 1, 'the report should list exactly one entry');
      const entry = await entries.first().textContent();
      assert.match(entry, /62812\*+890/, 'the report entry does not show the masked receiver');
      assert.ok(!entry.includes('6281234567890'), 'the report shows the receiver unmasked');
    },
  },
  {
    name: 'CSRF: no token → 403, a foreign Origin → 403',
    async run(t) {
      const page = t.page;
      await goto(page, t.base, 'dashboard');
      const body = JSON.stringify({ msisdn: '6281200000001' });
      const { csrf_token: token } = JSON.parse((await pageFetch(page, '/admin/api/session')).body);
      assert.ok(token, 'GET /admin/api/session gave no csrf_token to a logged-in page');
      await t.wc.expectConsoleErrors(HTTP_ERROR([403]), 2, async () => {
        const none = await pageFetch(page, '/admin/api/blocklist', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        assert.equal(none.status, 403, `POST without X-CSRF-Token answered ${none.status}: ${none.body}`);
        assert.match(JSON.parse(none.body).error, /\S/, 'the 403 has no sentence');
        const wrong = await pageFetch(page, '/admin/api/blocklist', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': `${token.slice(0, -2)}xx` }, body });
        assert.equal(wrong.status, 403, `POST with a wrong X-CSRF-Token answered ${wrong.status}`);
      });
      // The same request with the right token, the session cookie, but another site's Origin.
      const headers = { 'X-CSRF-Token': token, 'Content-Type': 'application/json' };
      const foreign = await t.wc.context.request.post(`${t.base}/admin/api/blocklist`, { headers: { ...headers, Origin: 'http://evil.example' }, data: body });
      assert.equal(foreign.status(), 403, `POST with Origin http://evil.example answered ${foreign.status()}`);
      const list = JSON.parse((await pageFetch(page, '/admin/api/blocklist')).body);
      assert.deepEqual(list.numbers, [], 'a refused request changed the block list');
      // A page of another origin on the same host: SameSite=Strict does not stop it (ports do not
      // make another site), so the browser sends the session cookie; the daemon must still refuse.
      const evil = await serveOnce(`<!doctype html><title>evil</title><script>fetch('${t.base}/admin/api/blocklist', {method: 'POST', mode: 'no-cors', credentials: 'include', headers: {'Content-Type': 'text/plain'}, body: ${JSON.stringify(body)}});</script>`);
      t.wc.otherOrigins.add(evil.origin);
      try {
        const attacker = await t.wc.newPage();
        await t.wc.expectConsoleErrors(HTTP_ERROR([403]), 1, async () => {
          const answer = attacker.waitForResponse((r) => r.url() === `${t.base}/admin/api/blocklist`);
          await attacker.goto(evil.origin);
          const r = await answer;
          assert.equal(r.status(), 403, `a POST from ${evil.origin} answered ${r.status()}`);
          const sent = await r.request().allHeaders();
          assert.match(sent.cookie || '', /otppi_session=/, 'the browser did not send the session cookie: this case tests nothing');
          assert.equal(sent.origin, evil.origin);
        });
        await attacker.close();
      } finally {
        t.wc.otherOrigins.delete(evil.origin);
        await evil.close();
      }
      assert.deepEqual(JSON.parse((await pageFetch(page, '/admin/api/blocklist')).body).numbers, [], 'the other origin\'s request changed the block list');
      // Control: the foreign-Origin request above, with our own Origin, is accepted: that 403 was the Origin.
      const own = await t.wc.context.request.post(`${t.base}/admin/api/blocklist`, { headers: { ...headers, Origin: t.base }, data: body });
      assert.equal(own.status(), 201, `the control request with our own Origin answered ${own.status()}: ${await own.text()}`);

      const del = await t.wc.context.request.delete(`${t.base}/admin/api/blocklist/6281200000001`, { headers: { 'X-CSRF-Token': token, Origin: t.base } });
      assert.equal(del.status(), 200);
      assert.deepEqual(JSON.parse((await pageFetch(page, '/admin/api/blocklist')).body).numbers, []);
    },
  },
  {
    name: 'every page renders without console errors or CSP violations',
    async run(t) {
      const page = t.page;
      await goto(page, t.base, 'dashboard');
      const links = await byId(page, 'nav').locator('a[data-route]').evaluateAll((as) => as.map((a) => a.getAttribute('data-route')));
      assert.ok(links.length >= 11, `the navigation has only ${links.length} links`);
      for (const id of links) {
        await byId(page, `nav-${id}`).click();
        await byId(page, `page-${id}`).waitFor();
        await page.waitForLoadState('networkidle');
        const h1 = await page.locator(`[data-testid="page-${id}"] h1`).first().textContent();
        assert.ok(h1 && h1.trim(), `page ${id} has no heading`);
        t.wc.check(`page ${id}`);
      }
      // The modem form and an unknown route render too.
      await page.goto(`${t.base}/#/modems/edit/${t.modems[0].id}`);
      await byId(page, 'modem-form').waitFor();
      const port = byId(page, 'modem-field-port');
      await waitFor(`the modem form to show the port of ${t.modems[0].id}`, async () => (await port.inputValue()) === t.modems[0].link);
      await page.goto(`${t.base}/#/no-such-page`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    },
  },
  {
    name: 'logout, the API answers 401, wrong password, login with a new session id',
    async run(t) {
      const page = t.page;
      await goto(page, t.base, 'dashboard');
      const oldId = (await t.wc.context.cookies(t.base)).find((c) => c.name === 'otppi_session').value;
      await byId(page, 'logout-button').click();
      await byId(page, 'login-form').waitFor();
      await expectStatus(page, 'login-form-status', 'info', /logged out/i);
      await t.wc.expectConsoleErrors(HTTP_ERROR([401]), 1, async () => {
        const r = await pageFetch(page, '/admin/api/status');
        assert.equal(r.status, 401, `GET /admin/api/status after logout answered ${r.status}`);
      });
      // The old id is dead, not just forgotten by the browser.
      const replay = await request(`${t.base}/admin/api/status`, { headers: { Cookie: `otppi_session=${oldId}` } });
      assert.equal(replay.status, 401, `the old session id still works after logout (${replay.status})`);

      await byId(page, 'login-username').fill(t.admin.user);
      await byId(page, 'login-password').fill('not the password');
      await t.wc.expectConsoleErrors(HTTP_ERROR([401]), 1, async () => {
        await byId(page, 'login-submit').click();
        await expectStatus(page, 'login-form-status', 'error', /\S/);
      });
      assert.equal(await byId(page, 'login-password').inputValue(), '', 'the wrong password stays in the field');
      await login(page, t.base, t.admin);
      await byId(page, 'page-dashboard').waitFor();
      const newId = (await t.wc.context.cookies(t.base)).find((c) => c.name === 'otppi_session').value;
      assert.notEqual(newId, oldId, 'login did not give a new session id');
      await expectAttribute(byId(page, 'live-indicator'), 'data-state', 'live', 'the live indicator after login', 15000);
    },
  },
  {
    name: 'phone viewport (390×844): menu button and the Send page',
    async run(t) {
      const phone = await WatchedContext.open(t.browser, t.base, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      try {
        const page = await phone.newPage();
        await login(page, t.base, t.admin);
        const toggle = byId(page, 'menu-toggle');
        await toggle.waitFor({ state: 'visible' });
        assert.equal(await byId(page, 'nav-send').isVisible(), false, 'the navigation is open on a phone before the menu button is tapped');
        await toggle.tap();
        await expectAttribute(toggle, 'aria-expanded', 'true', 'the menu button');
        await byId(page, 'nav-send').waitFor({ state: 'visible' });
        await byId(page, 'nav-send').tap();
        await byId(page, 'send-form').waitFor();
        await expectAttribute(toggle, 'aria-expanded', 'false', 'the menu button after choosing a page');
        for (const id of ['send-modem', 'send-receiver', 'send-message', 'send-submit']) {
          const box = await byId(page, id).boundingBox();
          assert.ok(box && box.width > 0, `${id} is not shown on a phone`);
          assert.ok(box.x >= 0 && box.x + box.width <= 390 + 0.5, `${id} sticks out of the 390 px screen (x ${box.x}, width ${box.width})`);
        }
        const submit = await byId(page, 'send-submit').boundingBox();
        assert.ok(submit.height >= 44, `the Send button is ${submit.height} px high; tap targets need 44`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `the Send page scrolls sideways on a phone by ${overflow} px`);
        phone.check('phone');
      } finally {
        await phone.close();
      }
    },
  },
  {
    name: 'settings changed on the Settings page survive a restart',
    async run(t) {
      let page = t.page;
      await goto(page, t.base, 'settings');
      const length = byId(page, 'setting-otp.length');
      const country = byId(page, 'setting-sms.country_code');
      await length.waitFor();
      assert.equal(await length.inputValue(), '6');
      assert.equal(await country.inputValue(), '62');
      await length.fill('8');
      await country.fill('49');
      await byId(page, 'settings-save').click();
      // The country code applies at once; the OTP engine keeps its length until a restart, and
      // the page says so.
      await expectStatus(page, 'settings-form-status', 'ok', /saved.*after a restart/);
      await expectText(byId(page, 'settings-restart-required'), /Restart needed[\s\S]*\botp(?![a-z])/, 'the restart notice');
      assert.equal(await byId(page, 'settings-restart').isVisible(), true, 'the notice offers a restart button');
      assert.doesNotMatch(await byId(page, 'settings-restart-required').textContent(), /\bsms\b/, 'the country code should apply without a restart');
      // An invalid value is refused by the daemon and shown next to its field.
      await length.fill('3');
      await t.wc.expectConsoleErrors(HTTP_ERROR([400]), 1, async () => {
        await byId(page, 'settings-save').click();
        await expectStatus(page, 'settings-form-status', 'error', /\S/);
      });
      await expectText(byId(page, 'setting-otp.length-error'), /\S/, 'the OTP length error');
      const file = await t.gw.readConfig();
      assert.equal(file.otp.length, 8, 'the config file does not have the saved OTP length');
      assert.equal(file.sms.country_code, '49', 'the config file does not have the saved country code');

      // Pages are closed first: a socket dropped by the restart is not an error of the page.
      await t.wc.close();
      await t.gw.restartDaemon();
      t.wc = await WatchedContext.open(t.browser, t.base);
      page = t.page = await t.wc.newPage();
      await login(page, t.base, t.admin);
      await goto(page, t.base, 'settings');
      await byId(page, 'setting-otp.length').waitFor();
      assert.equal(await byId(page, 'setting-otp.length').inputValue(), '8', 'the OTP length did not survive the restart');
      assert.equal(await byId(page, 'setting-sms.country_code').inputValue(), '49', 'the country code did not survive the restart');
      assert.equal(await byId(page, 'settings-restart-required').isVisible(), false, 'a restart is still asked for after the restart');
      // Today's counters are read back from the SMS log after the restart.
      await goto(page, t.base, 'dashboard');
      await expectText(byId(page, 'status-sent-today'), /Sent today\s*1$/, 'the sent-today card');
      await expectText(byId(page, 'status-failed-today'), /Failed today\s*0$/, 'the failed-today card');
    },
  },
  {
    name: 'DNS rebinding: a page under another name that resolves to the device gets 421',
    async run(t) {
      // A context of its own: the watched one would (rightly) flag the foreign origin.
      const ctx = await t.browser.newContext();
      try {
        const page = await ctx.newPage();
        const port = new URL(t.base).port;
        const res = await page.goto(`http://${REBIND_NAME}:${port}/`);
        assert.equal(res.status(), 421, `the page under ${REBIND_NAME} answered ${res.status()}`);
        assert.match(await res.text(), /not a name of this device/);
        // Script of that page, same-origin to it, cannot reach the API either.
        const api = await page.evaluate(async () => {
          const r = await fetch('/admin/api/session');
          return { status: r.status, body: await r.text() };
        });
        assert.equal(api.status, 421, `GET /admin/api/session from ${REBIND_NAME} answered ${api.status}: ${api.body}`);
        assert.doesNotMatch(api.body, /csrf_token/);
      } finally {
        await ctx.close();
      }
    },
  },
];
