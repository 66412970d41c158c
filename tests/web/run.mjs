#!/usr/bin/env node
// End-to-end tests of the admin web UI in real headless Chromium, against the real otppi daemon
// and otppi-modem-sim modems on ptys, all on loopback (issue #6).
//
//   node tests/web/run.mjs                           run the scenarios (exit 0 = all passed)
//   node tests/web/run.mjs --screenshots DIR         write the documentation's screenshots to DIR
//   node tests/web/run.mjs --only TEXT               only scenarios whose name contains TEXT
//                                                    (the first-run scenario always runs)
//   node tests/web/run.mjs --keep                    keep the temp dir (config, state) for a look
//
// Environment: OTPPI_BINARY and OTPPI_SIM_BINARY (the built otppi and otppi-modem-sim; ctest sets
// both), OTPPI_SOURCE_DIR (the repository, for web/; default: two levels up from here), CHROMIUM
// (default /usr/bin/chromium). Needs `npm ci` in tests/web (scripts/test.sh runs it).

import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gateway } from './harness.mjs';
import { loadPlaywright, launchChromium, WatchedContext } from './browser.mjs';
import { scenarios } from './scenarios.mjs';
import { takeScreenshots } from './screenshots.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const RUN_LIMIT_MS = 170000; // the whole run, start to teardown; ctest's TIMEOUT is above this
const SCENARIO_LIMIT_MS = 60000;

function parseArgs(argv) {
  const opts = { screenshots: null, only: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--screenshots') opts.screenshots = argv[++i];
    else if (a === '--only') opts.only = argv[++i];
    else if (a === '--keep') opts.keep = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node tests/web/run.mjs [--screenshots DIR] [--only TEXT] [--keep]');
      process.exit(0);
    } else {
      console.error(`web-e2e: unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (opts.screenshots === undefined) {
    console.error('web-e2e: --screenshots needs a directory');
    process.exit(2);
  }
  return opts;
}

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: point it at the built binary (ctest sets it; by hand: ${name}=build/${name === 'OTPPI_BINARY' ? 'otppi' : 'otppi-modem-sim'}).`);
  return v;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 18) throw new Error(`Node.js ${process.versions.node} is too old; 18 or newer is needed (Debian 12's nodejs package).`);
  const sourceDir = path.resolve(process.env.OTPPI_SOURCE_DIR || path.join(here, '..', '..'));
  const { playwright, version: playwrightVersion } = await loadPlaywright();

  const t = {
    deviceName: opts.screenshots ? 'OTP-Pi' : 'otppi-e2e',
    // Fresh per run, so the check that they never reach a log means something.
    admin: { user: 'admin', password: `pw-${randomBytes(12).toString('hex')}` },
    secrets: { smsText: `e2e text ${randomBytes(6).toString('hex')}` },
    modems: [
      { id: 'm1', name: 'SIM800L A', imei: '359848091500011', incoming: [['+6281311112222', opts.screenshots ? 'Hi, my code has not arrived yet. Could you send it again?' : 'Hello from the e2e inbox']] },
      { id: 'm2', name: 'SIM800L B', imei: '359848091500022' },
    ],
  };
  const gw = new Gateway({
    binary: requiredEnv('OTPPI_BINARY'),
    simBinary: requiredEnv('OTPPI_SIM_BINARY'),
    webRoot: path.join(sourceDir, 'web'),
    modems: t.modems,
    deviceName: t.deviceName,
  });
  t.gw = gw;

  let browser = null;
  let failures = 0;
  const watchdog = setTimeout(() => {
    console.error(`web-e2e: FAILED: the run took longer than ${RUN_LIMIT_MS / 1000} s; stopping everything.`);
    console.error(gw.diagnostics());
    Promise.resolve(browser && browser.close())
      .catch(() => {})
      .then(() => gw.teardown())
      .finally(() => process.exit(1));
  }, RUN_LIMIT_MS);

  try {
    // The browser first: without it there is no point in starting the daemon.
    browser = await launchChromium(playwright);
    t.browser = browser;
    await gw.setup();
    await gw.startDaemon();
    t.base = gw.base;
    console.log(`web-e2e: otppi on ${gw.base}, Chromium ${browser.version()}, playwright-core ${playwrightVersion}`);

    if (opts.screenshots) {
      const dir = path.resolve(opts.screenshots);
      await mkdir(dir, { recursive: true });
      const files = await takeScreenshots(t, dir);
      for (const f of files) console.log(`web-e2e: wrote ${f}`);
    } else {
      t.wc = await WatchedContext.open(browser, t.base);
      t.page = await t.wc.newPage();
      for (const [i, sc] of scenarios.entries()) {
        if (opts.only && i > 0 && !sc.name.includes(opts.only)) continue;
        const t0 = Date.now();
        try {
          await withTimeout(sc.run(t), SCENARIO_LIMIT_MS, 'the scenario');
          t.wc.check('after the scenario');
          console.log(`ok   ${sc.name} (${secs(Date.now() - t0)})`);
        } catch (e) {
          failures++;
          console.log(`FAIL ${sc.name} (${secs(Date.now() - t0)})`);
          console.log(`     ${String(e.stack || e).split('\n').join('\n     ')}`);
          if (i === 0) throw new Error('the first administrator could not be created; the other scenarios need it');
        }
      }
      await t.wc.close();
    }

    await browser.close();
    browser = null;
    // The daemon must stop cleanly on SIGTERM.
    await gw.stopDaemon();
    console.log('ok   the daemon exits 0 on SIGTERM');
    // No password or message text in any log line of the daemon or the simulators.
    const logs = gw.allLogs();
    for (const [what, secret] of [['the administrator password', t.admin.password], ['the SMS text', t.secrets.smsText]]) {
      if (logs.includes(secret)) {
        failures++;
        console.log(`FAIL ${what} appears in the output of the daemon or a simulator`);
      }
    }
  } catch (e) {
    failures++;
    console.error(`web-e2e: FAILED: ${e.message}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    // What the daemon and the simulators said, for any failure.
    const diagnostics = failures ? gw.diagnostics() : '';
    if (diagnostics) console.error(diagnostics);
    await gw.teardown({ keep: opts.keep });
    if (opts.keep && gw.dir) console.log(`web-e2e: kept ${gw.dir}`);
    clearTimeout(watchdog);
  }
  const total = secs(Date.now() - started);
  if (failures) {
    console.log(`web-e2e: ${failures} failure(s) in ${total}`);
    process.exitCode = 1;
  } else {
    console.log(`web-e2e: all passed in ${total}`);
  }
}

main().catch((e) => {
  console.error(`web-e2e: FAILED: ${e.message}`);
  process.exitCode = 1;
});
