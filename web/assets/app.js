// Start-up, the app shell (header, navigation) and the hash router.
//
// Start: GET /admin/api/session decides between "create the first administrator", the login page
// and the app. Routes are "#/name/param…"; each page is one module in pages/ with
// render(container, ctx, params). ctx.onCleanup(fn) runs fn when the page is left.

import { h, clear } from './dom.js';
import { get, post, setCsrfToken, onUnauthorized, describeError } from './api.js';
import { notify, hideFlash, button } from './forms.js';
import { Live } from './live.js';
import { renderSetup, renderLogin } from './pages/auth.js';
import dashboard from './pages/dashboard.js';
import send from './pages/send.js';
import inbox from './pages/inbox.js';
import ussd from './pages/ussd.js';
import modems from './pages/modems.js';
import blocklist from './pages/blocklist.js';
import apiUsers from './pages/api-users.js';
import admins from './pages/admins.js';
import settings from './pages/settings.js';
import report from './pages/report.js';
import tools from './pages/tools.js';

const PAGES = [dashboard, send, inbox, ussd, modems, report, blocklist, apiUsers, admins, settings, tools];
const DEFAULT_ROUTE = 'dashboard';

const root = document.getElementById('app');
const session = { user: '', device_name: 'otppi', version: '' };
const live = new Live({ onAuthLost: checkSessionStillValid });

let shell = null; // {main, nav, indicator, menuButton}
const cleanups = [];
let handoff = null; // data passed to the next page (reply → send form)
let returnTo = ''; // route to go back to after logging in again

function applySession(data) {
  if (data.csrf_token) setCsrfToken(data.csrf_token);
  if (typeof data.user === 'string') session.user = data.user;
  if (typeof data.device_name === 'string' && data.device_name) session.device_name = data.device_name;
  if (typeof data.version === 'string') session.version = data.version;
}

// ---- start-up and authentication ------------------------------------------------------------

async function start(message) {
  teardownShell();
  clear(root).append(h('p', { class: 'loading', testid: 'app-loading' }, 'Loading…'));
  let data;
  try {
    data = await get('/session', { handle401: false });
  } catch (e) {
    showStartError(e);
    return;
  }
  applySession(data);
  if (data.setup_required) {
    showAuthPage(renderSetup, message);
  } else if (!data.logged_in) {
    showAuthPage(renderLogin, message);
  } else {
    showShell();
  }
}

function showStartError(e) {
  clear(root).append(
    h(
      'main',
      { class: 'auth' },
      h(
        'div',
        { class: 'card auth-card', role: 'alert', testid: 'start-error' },
        h('h1', null, 'The admin interface could not start'),
        h('p', null, describeError(e)),
        button('Try again', { class: 'btn-primary', testid: 'start-retry', onclick: () => start() }),
      ),
    ),
  );
}

function showAuthPage(render, message) {
  document.title = `${session.device_name} · otppi admin`;
  clear(root);
  render(root, {
    session,
    message,
    restart: (text) => start(text),
    done: (answer) => {
      applySession(answer);
      if (answer.user) session.user = answer.user;
      hideFlash();
      showShell();
    },
  });
}

/** The session ended (a 401 from any request): back to the login page, then back here. */
function sessionEnded() {
  if (!shell) return;
  returnTo = location.hash;
  live.stop();
  start('Your session has ended. Please log in again.');
}

/** Used by the WebSocket after a failed connect: true when the session is gone. */
async function checkSessionStillValid() {
  try {
    const data = await get('/session', { handle401: false });
    if (data.logged_in) return false;
  } catch {
    return false; // the device is unreachable: keep retrying, the indicator says so
  }
  sessionEnded();
  return true;
}

async function logout() {
  try {
    await post('/logout', {}, { handle401: false });
  } catch (e) {
    if (e.status !== 401) {
      notify(describeError(e), 'error');
      return;
    }
  }
  live.stop();
  returnTo = '';
  session.user = '';
  start('You have logged out.');
}

onUnauthorized(() => sessionEnded());

// ---- shell ----------------------------------------------------------------------------------

function liveIndicator() {
  const el = h('span', { class: 'live', testid: 'live-indicator', 'data-state': live.state, title: 'Monitor connection' });
  const paint = (state) => {
    el.setAttribute('data-state', state);
    el.textContent = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Disconnected';
  };
  paint(live.state);
  live.on('state', paint);
  return el;
}

function showShell() {
  teardownShell();
  const navId = 'main-nav';
  const menuButton = h(
    'button',
    { type: 'button', class: 'menu-toggle', testid: 'menu-toggle', 'aria-expanded': 'false', 'aria-controls': navId },
    h('span', { class: 'menu-icon', 'aria-hidden': 'true' }),
    h('span', null, 'Menu'),
  );
  const nav = h(
    'nav',
    { id: navId, class: 'nav', 'aria-label': 'Main', testid: 'nav' },
    h(
      'ul',
      null,
      PAGES.map((p) => h('li', null, h('a', { href: `#/${p.id}`, testid: `nav-${p.id}`, 'data-route': p.id }, p.title))),
    ),
    h('p', { class: 'nav-version' }, session.version ? `otppi ${session.version}` : 'otppi'),
  );
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const skip = h('a', { class: 'skip', href: '#main' }, 'Skip to content');
  skip.addEventListener('click', (ev) => {
    ev.preventDefault(); // a real jump would change the hash and the route
    main.focus();
  });
  const header = h(
    'header',
    { class: 'header', testid: 'app-header' },
    menuButton,
    h('a', { class: 'brand', href: `#/${DEFAULT_ROUTE}` }, h('img', { src: 'assets/icon.svg', alt: '', width: '28', height: '28' }), h('span', { testid: 'device-name' }, session.device_name)),
    h(
      'div',
      { class: 'header-right' },
      liveIndicator(),
      h('span', { class: 'user', testid: 'current-user', title: 'Logged in as' }, session.user),
      button('Log out', { class: 'btn-small', testid: 'logout-button', onclick: logout }),
    ),
  );
  menuButton.addEventListener('click', () => setMenu(menuButton.getAttribute('aria-expanded') !== 'true'));
  nav.addEventListener('click', (ev) => {
    if (ev.target.closest('a')) setMenu(false);
  });
  document.addEventListener('keydown', onEscape);
  clear(root).append(skip, header, h('div', { class: 'layout' }, nav, main));
  shell = { main, nav, menuButton };
  live.start();
  window.addEventListener('hashchange', route);
  if (returnTo && returnTo !== location.hash) {
    const target = returnTo;
    returnTo = '';
    location.hash = target; // fires hashchange → route
  } else {
    returnTo = '';
    route();
  }
}

function onEscape(ev) {
  if (ev.key !== 'Escape' || !shell || shell.menuButton.getAttribute('aria-expanded') !== 'true') return;
  setMenu(false);
  shell.menuButton.focus();
}

function setMenu(open) {
  if (!shell) return;
  shell.menuButton.setAttribute('aria-expanded', open ? 'true' : 'false');
  shell.nav.classList.toggle('nav-open', open);
}

function teardownShell() {
  runCleanups();
  window.removeEventListener('hashchange', route);
  document.removeEventListener('keydown', onEscape);
  shell = null;
}

function runCleanups() {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch (e) {
      console.error(e);
    }
  }
}

// ---- router ---------------------------------------------------------------------------------

function parseHash() {
  const hash = location.hash;
  if (!hash.startsWith('#/')) return { id: DEFAULT_ROUTE, params: [] };
  const parts = hash
    .slice(2)
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { id: parts[0] || DEFAULT_ROUTE, params: parts.slice(1) };
}

export function navigate(path, state) {
  handoff = state === undefined ? null : state;
  const hash = `#/${path}`;
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  if (!shell) return;
  const { id, params } = parseHash();
  const page = PAGES.find((p) => p.id === id);
  runCleanups();
  setMenu(false);
  const main = shell.main;
  clear(main);
  for (const a of shell.nav.querySelectorAll('a')) {
    if (a.getAttribute('data-route') === (page ? page.id : '')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!page) {
    document.title = `Not found · ${session.device_name}`;
    main.append(
      h('h1', { tabindex: '-1' }, 'Page not found'),
      h('p', null, 'There is no page at this address. ', h('a', { href: `#/${DEFAULT_ROUTE}` }, 'Go to the dashboard'), '.'),
    );
    focusHeading(main);
    return;
  }
  document.title = `${page.title} · ${session.device_name}`;
  const state = handoff;
  handoff = null;
  const container = h('div', { class: 'page', testid: `page-${page.id}` });
  main.append(container);
  const ctx = {
    session,
    live,
    navigate,
    state,
    onCleanup: (fn) => cleanups.push(fn),
    restartLive: () => live.restart(),
    setCsrfToken,
  };
  try {
    page.render(container, ctx, params);
  } catch (e) {
    console.error(e);
    container.append(h('p', { class: 'form-status form-status-error', role: 'alert' }, 'This page could not be shown. Reload and try again.'));
  }
  focusHeading(main);
}

function focusHeading(main) {
  // Move focus to the new page's heading so screen readers announce the page change; not on the
  // first load (focus stays at the top of the document).
  // A page that put focus somewhere itself (a prefilled form) keeps it.
  const active = document.activeElement;
  if (active && main.contains(active) && active !== main) return;
  const h1 = main.querySelector('h1');
  if (h1 && active && active !== document.body) h1.focus();
  else window.scrollTo(0, 0);
}

start();
