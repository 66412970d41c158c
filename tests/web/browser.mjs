// Headless Chromium (the system's, not a downloaded one) through playwright-core, and a watcher
// that records everything a page should never do: console errors, uncaught exceptions, CSP
// violations, and requests that leave the daemon's origin.

import { access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A name of another site that the browser resolves to 127.0.0.1 (see launchChromium). */
export const REBIND_NAME = 'rebind.example';

/** playwright-core from tests/web/node_modules, at the version package.json pins. */
export async function loadPlaywright() {
  const pkg = JSON.parse(await readFile(path.join(here, 'package.json'), 'utf8'));
  const wanted = pkg.dependencies['playwright-core'];
  let installed;
  try {
    installed = JSON.parse(await readFile(path.join(here, 'node_modules', 'playwright-core', 'package.json'), 'utf8')).version;
  } catch {
    throw new Error(`playwright-core is not installed in ${path.join(here, 'node_modules')}.\n  Run: (cd tests/web && npm ci --no-audit --no-fund)   (scripts/test.sh does this)`);
  }
  if (installed !== wanted) {
    throw new Error(`tests/web/node_modules holds playwright-core ${installed}, package.json pins ${wanted}.\n  Run: (cd tests/web && npm ci --no-audit --no-fund)`);
  }
  return { playwright: await import('playwright-core'), version: installed };
}

export async function launchChromium(playwright) {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  try {
    await access(executablePath, constants.X_OK);
  } catch {
    throw new Error(`Chromium not found at ${executablePath}.\n  Install it with scripts/install-deps.sh --test (Debian package "chromium"), or set CHROMIUM to its path.`);
  }
  const args = ['--no-proxy-server', '--disable-dev-shm-usage', '--disable-extensions', '--no-first-run', '--no-default-browser-check'];
  // DNS rebinding, played without DNS: a foreign name that resolves to the daemon's address.
  args.push(`--host-resolver-rules=MAP ${REBIND_NAME} 127.0.0.1`);
  // Chromium's sandbox refuses to run as root; the pages are our own, on loopback.
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  return playwright.chromium.launch({ executablePath, headless: true, args, timeout: 30000 });
}

/**
 * A browser context on the daemon's origin whose pages are all watched. Problems are collected
 * in `problems` (strings); `expect(pattern)` lets console errors that match through while a step
 * provokes them on purpose (a 403 from a request without the CSRF token), and counts them.
 */
export class WatchedContext {
  static async open(browser, base, options = {}) {
    const wc = new WatchedContext(base);
    wc.context = await browser.newContext({ baseURL: base, locale: 'en-US', timezoneId: 'UTC', serviceWorkers: 'block', ...options });
    wc.context.setDefaultTimeout(10000);
    await wc.context.exposeBinding('__otppiCspViolation', (source, v) => {
      wc.problems.push(`CSP violation on ${source.page ? source.page.url() : '?'}: ${v.directive} blocked ${v.blocked} (${v.source})`);
    });
    await wc.context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__otppiCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI || 'inline', source: `${e.sourceFile || ''}:${e.lineNumber || 0}` });
      });
    });
    // Hermetic: nothing but the daemon's own origin (and data: URLs) may be fetched.
    await wc.context.route(
      (url) => url.origin !== base && url.protocol !== 'data:' && !wc.otherOrigins.has(url.origin),
      (route) => {
        wc.problems.push(`request outside the daemon's origin: ${route.request().method()} ${route.request().url()}`);
        return route.abort('blockedbyclient');
      },
    );
    wc.context.on('page', (p) => wc.watch(p));
    return wc;
  }

  constructor(base) {
    this.base = base;
    this.problems = [];
    this.allowed = []; // [{pattern, seen}]
    this.otherOrigins = new Set(); // loopback origins a scenario serves on purpose
  }

  watch(page) {
    page.on('console', (msg) => {
      if (msg.type() !== 'error' && msg.type() !== 'assert') return;
      const text = msg.text();
      const loc = msg.location();
      const where = loc && loc.url ? ` (${loc.url}${loc.lineNumber ? `:${loc.lineNumber}` : ''})` : '';
      const allow = this.allowed.find((a) => a.pattern.test(text));
      if (allow) {
        allow.seen += 1;
        return;
      }
      this.problems.push(`console ${msg.type()} on ${page.url()}: ${text}${where}`);
    });
    page.on('pageerror', (err) => this.problems.push(`uncaught exception on ${page.url()}: ${err.stack || err.message}`));
    page.on('crash', () => this.problems.push(`page crashed: ${page.url()}`));
  }

  async newPage() {
    return this.context.newPage(); // watched through the 'page' event
  }

  /**
   * Runs fn while exactly `count` console errors matching pattern are expected. Chromium reports
   * a failed request on the console a moment after the answer arrived, so this waits for them
   * before it stops expecting them.
   */
  async expectConsoleErrors(pattern, count, fn) {
    const entry = { pattern, seen: 0 };
    this.allowed.push(entry);
    try {
      await fn();
      await waitFor(`${count} console error(s) matching ${pattern}`, () => entry.seen >= count, 5000, 20).catch((e) => {
        throw new Error(`${e.message}; ${entry.seen} came`);
      });
      if (entry.seen !== count) throw new Error(`expected ${count} console error(s) matching ${pattern}, ${entry.seen} came`);
    } finally {
      this.allowed.splice(this.allowed.indexOf(entry), 1);
    }
  }

  /** Throws with every recorded problem (and forgets them). */
  check(what) {
    if (!this.problems.length) return;
    const list = this.problems.splice(0);
    throw new Error(`${what}: ${list.length} problem(s) in the browser:\n  - ${list.join('\n  - ')}`);
  }

  async close() {
    await this.context.close().catch(() => {});
  }
}
