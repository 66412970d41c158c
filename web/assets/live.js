// The monitor's WebSocket (/admin/ws): status and modem frames every 2 s, events as they happen.
// Reconnects with a growing pause; keeps the header's live indicator up to date. The last status
// and modem frames are kept so a page opened later shows data at once.

const RETRY_S = [1, 2, 5, 10, 15];

export class Live {
  constructor({ onAuthLost } = {}) {
    this.ws = null;
    this.state = 'disconnected'; // 'connecting' | 'live' | 'disconnected'
    this.listeners = new Map(); // type → Set(fn); type 'state' for indicator changes
    this.lastStatus = null;
    this.lastModems = null;
    this.events = []; // newest first, at most 100
    this.retry = 0;
    this.timer = null;
    this.running = false;
    this.onAuthLost = onAuthLost;
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, payload) {
    for (const fn of this.listeners.get(type) || []) {
      try {
        fn(payload);
      } catch (e) {
        console.error(e);
      }
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  start() {
    this.running = true;
    this.retry = 0;
    this.connect();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, 'logout');
    }
    this.lastStatus = null;
    this.lastModems = null;
    this.events = [];
    this.setState('disconnected');
  }

  /** After the session id changed (password change): the old socket belongs to the old id. */
  restart() {
    this.stop();
    this.start();
  }

  connect() {
    clearTimeout(this.timer);
    if (!this.running) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${location.host}/admin/ws`);
    } catch {
      this.scheduleRetry(false);
      return;
    }
    this.ws = ws;
    let opened = false;
    this.setState('connecting');
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      opened = true;
      this.retry = 0;
      this.setState('live');
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws !== ws) return;
      this.handle(ev.data);
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setState('disconnected');
      this.scheduleRetry(opened);
    });
    // 'error' is always followed by 'close'; nothing to do here.
  }

  async scheduleRetry(wasOpen) {
    if (!this.running) return;
    // A refused upgrade (no session) looks like any failed connection to a browser. Ask the
    // session endpoint before retrying, so an ended session leads back to the login page.
    if (!wasOpen && this.onAuthLost && (await this.onAuthLost())) return;
    if (!this.running) return;
    const delay = RETRY_S[Math.min(this.retry, RETRY_S.length - 1)];
    this.retry += 1;
    this.timer = setTimeout(() => this.connect(), delay * 1000);
  }

  handle(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'status' && msg.status && typeof msg.status === 'object') {
      this.lastStatus = msg.status;
      this.emit('status', msg.status);
    } else if (msg.type === 'modems' && Array.isArray(msg.modems)) {
      this.lastModems = msg.modems;
      this.emit('modems', msg.modems);
    } else if (msg.type === 'event') {
      const event = {
        time: typeof msg.time === 'number' ? msg.time : Math.floor(Date.now() / 1000),
        kind: String(msg.kind || 'event'),
        modem_id: msg.modem_id == null ? '' : String(msg.modem_id),
        detail: msg.detail == null ? '' : String(msg.detail),
      };
      this.events.unshift(event);
      if (this.events.length > 100) this.events.length = 100;
      this.emit('event', event);
    }
  }
}
