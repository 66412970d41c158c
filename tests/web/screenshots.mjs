// The screenshots of docs/admin-ui.md: the real pages on the real daemon with simulated modems,
// a few SMS sent so the dashboard, the feed and the report have something to show.
// Run: node tests/web/run.mjs --screenshots docs/screenshots

import path from 'node:path';
import { stat } from 'node:fs/promises';
import { WatchedContext } from './browser.mjs';
import { waitFor } from './harness.mjs';
import { byId, expectAttribute, expectStatus, expectText, goto, login, pageFetch } from './ui.mjs';

const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const MAX_BYTES = 300 * 1024;

async function shoot(page, dir, name, files) {
  await page.waitForLoadState('networkidle');
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  const { size } = await stat(file);
  if (size > MAX_BYTES) throw new Error(`${file} is ${Math.round(size / 1024)} KB; keep screenshots under ${MAX_BYTES / 1024} KB`);
  files.push(`${file} (${Math.round(size / 1024)} KB)`);
}

export async function takeScreenshots(t, dir) {
  const files = [];
  const wc = await WatchedContext.open(t.browser, t.base, DESKTOP);
  try {
    const page = await wc.newPage();
    await page.goto(`${t.base}/`);
    await byId(page, 'setup-form').waitFor();
    await byId(page, 'setup-code').fill(await t.gw.setupCode());
    await byId(page, 'setup-username').fill(t.admin.user);
    await shoot(page, dir, 'setup', files);
    await byId(page, 'setup-password').fill(t.admin.password);
    await byId(page, 'setup-password2').fill(t.admin.password);
    await byId(page, 'setup-submit').click();
    await byId(page, 'page-dashboard').waitFor();
    await expectAttribute(byId(page, 'live-indicator'), 'data-state', 'live', 'the live indicator', 15000);
    for (const m of t.modems) {
      await expectText(page.locator(`[data-testid="modem-status-row"][data-modem-id="${m.id}"]`), /ready/i, `modem ${m.id}`, 30000);
    }

    // Some traffic while the dashboard is open, so its feed and the report are not empty.
    const { csrf_token: token } = JSON.parse((await pageFetch(page, '/admin/api/session')).body);
    const sends = [
      ['m1', '081234567890', 'Your OTP is 482913'],
      ['m2', '6285712345678', 'Meeting moved to 10:00'],
      ['m1', '+6281398765432', 'Kode OTP Anda 118204'],
    ];
    for (const [modem, receiver, message] of sends) {
      const r = await pageFetch(page, '/admin/api/sms', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token }, body: JSON.stringify({ modem_id: modem, receiver, message }) });
      if (r.status !== 200) throw new Error(`sending the sample SMS answered ${r.status}: ${r.body}`);
    }
    await waitFor('three sms_sent events in the feed', async () => (await page.locator('[data-testid="event-item"][data-kind="sms_sent"]').count()) >= 3, 15000);
    await expectText(byId(page, 'status-sent-today'), /3$/, 'the sent-today card'); // the next status frame
    await shoot(page, dir, 'dashboard', files);

    await goto(page, t.base, 'modems');
    for (const m of t.modems) await expectText(page.locator(`[data-testid="modem-row"][data-modem-id="${m.id}"]`).getByTestId('modem-imei'), new RegExp(m.imei), `IMEI of ${m.id}`);
    await shoot(page, dir, 'modems', files);

    await goto(page, t.base, 'send');
    await waitFor('the modem choice', async () => (await byId(page, 'send-modem').locator('option[value="m1"]').count()) === 1);
    await byId(page, 'send-modem').selectOption('m1');
    await byId(page, 'send-receiver').fill('0812 3456 7890');
    await byId(page, 'send-message').fill('Your parcel arrives today between 14:00 and 16:00. Reply STOP to opt out.');
    await shoot(page, dir, 'send', files);

    await goto(page, t.base, 'inbox');
    const row = page.getByTestId('inbox-row').first();
    await row.waitFor({ timeout: 20000 });
    await row.getByTestId('inbox-open').click();
    await byId(page, 'inbox-message-text').waitFor();
    await shoot(page, dir, 'inbox', files);

    await goto(page, t.base, 'report');
    await byId(page, 'report-chart').waitFor();
    await shoot(page, dir, 'report', files);

    await goto(page, t.base, 'settings');
    await byId(page, 'settings-save').waitFor();
    await shoot(page, dir, 'settings', files);

    await byId(page, 'logout-button').click();
    await byId(page, 'login-form').waitFor();
    await expectStatus(page, 'login-form-status', 'info', /logged out/i);
    await shoot(page, dir, 'login', files);
    wc.check('screenshots (desktop)');
  } finally {
    await wc.close();
  }

  const phone = await WatchedContext.open(t.browser, t.base, PHONE);
  try {
    const page = await phone.newPage();
    await login(page, t.base, t.admin);
    await goto(page, t.base, 'send');
    await byId(page, 'send-receiver').fill('081234567890');
    await byId(page, 'send-message').fill('Your OTP is 482913');
    await shoot(page, dir, 'phone-send', files);
    await byId(page, 'menu-toggle').tap();
    await byId(page, 'nav-send').waitFor({ state: 'visible' });
    await shoot(page, dir, 'phone-menu', files);
    phone.check('screenshots (phone)');
  } finally {
    await phone.close();
  }
  return files;
}
