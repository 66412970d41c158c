// The processes under test: the real otppi daemon and otppi-modem-sim instances on ptys, in a
// temporary directory, on loopback ports picked by the kernel. Nothing here knows about the
// browser; run.mjs and the scenarios drive both.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile, access, constants } from 'node:fs/promises';
import { createServer } from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A port the kernel just handed out on 127.0.0.1 (closed again, so the daemon can bind it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Thrown inside waitFor's fn: no point in waiting longer (a process died). */
export class Fatal extends Error {}

/** Polls fn() until it returns a truthy value; throws `what` after timeoutMs. */
export async function waitFor(what, fn, timeoutMs = 10000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e instanceof Fatal) throw e;
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await sleep(everyMs);
  }
}

/** One HTTP request on loopback; no proxy, no cookie jar. Resolves {status, headers, body}. */
export function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(url, { method, headers: { ...(data !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}), ...headers }, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 5 s`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** A page of another origin (a free port on 127.0.0.1) serving `html` at /: {origin, close()}. */
export function serveOnce(html) {
  return new Promise((resolve, reject) => {
    const srv = http.createServer((req, res) => {
      res.writeHead(req.url === '/' ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(req.url === '/' ? html : '');
    });
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      resolve({ origin: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(() => r())) });
    });
  });
}

/** A child process whose output is kept (for waiting on lines and for failure reports). */
class Child {
  constructor(name, file, args, options = {}) {
    this.name = name;
    this.out = '';
    this.err = '';
    this.exit = null; // {code, signal} once it ended
    this.proc = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.proc.on('error', (e) => {
        this.err += `\n[spawn failed: ${e.message}]`;
        this.exit = { code: -1, signal: null };
        resolve(this.exit);
      });
    });
    this.proc.stdout.setEncoding('utf8').on('data', (d) => (this.out += d));
    this.proc.stderr.setEncoding('utf8').on('data', (d) => (this.err += d));
  }

  get running() {
    return this.exit === null;
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves the exit {code, signal}. */
  async stop(graceMs = 15000) {
    if (!this.running) return this.exit;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.running) {
        this.err += `\n[did not stop within ${graceMs} ms of SIGTERM; killed]`;
        this.proc.kill('SIGKILL');
      }
    }, graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  tail(lines = 40) {
    const all = `${this.out}${this.err}`.trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  }
}

/** Throws a clear sentence when a file the run needs is missing or not executable. */
async function mustExecute(file, what, hint) {
  try {
    await access(file, constants.X_OK);
  } catch {
    throw new Error(`${what} not found or not executable: ${file}\n  ${hint}`);
  }
}

/**
 * The daemon with its simulated modems. modems: [{id, name, imei}]; each gets its own
 * otppi-modem-sim whose pty link is the modem's port.
 */
export class Gateway {
  constructor({ binary, simBinary, webRoot, modems, deviceName = 'otppi-e2e' }) {
    // Absolute: the daemon runs in the temp dir.
    this.binary = path.resolve(binary);
    this.simBinary = path.resolve(simBinary);
    this.webRoot = webRoot;
    this.modemSpecs = modems;
    this.deviceName = deviceName;
    this.sims = new Map(); // id → Child
    this.daemon = null;
    this.daemonLogs = ''; // every daemon run's output, for the secrets check
    this.dir = null;
  }

  get base() {
    return `http://127.0.0.1:${this.adminPort}`;
  }

  async setup() {
    await mustExecute(this.binary, 'The otppi daemon', 'Set OTPPI_BINARY to the built otppi (ctest does this).');
    await mustExecute(this.simBinary, 'The modem simulator', 'Set OTPPI_SIM_BINARY to the built otppi-modem-sim (ctest does this).');
    try {
      await access(path.join(this.webRoot, 'index.html'), constants.R_OK);
    } catch {
      throw new Error(`The admin UI is not at ${this.webRoot} (no index.html); set OTPPI_SOURCE_DIR to the repository.`);
    }
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'otppi-web-'));
    this.apiPort = await freePort();
    do this.adminPort = await freePort();
    while (this.adminPort === this.apiPort);
    for (const [i, m] of this.modemSpecs.entries()) await this.startSim(m, `ttyUSB${i}`);
    this.configPath = path.join(this.dir, 'otppi.json');
    const config = {
      device_name: this.deviceName,
      state_dir: path.join(this.dir, 'state'),
      api: { http: { enabled: true, bind: '127.0.0.1', port: this.apiPort }, https: { enabled: false } },
      admin: { bind: '127.0.0.1', port: this.adminPort, web_root: this.webRoot },
      // No port scan: only the simulated modems below exist for this daemon.
      general: { inspect_modem_interval_s: 0, log_level: 'debug' },
      sms: { country_code: '62', recipient_prefix_length: 5 },
      otp: { length: 6, expiration_s: 180, max_attempts: 5 },
      modems: this.modemSpecs.map((m, i) => ({
        id: m.id,
        name: m.name,
        port: m.link,
        baud_rate: 115200,
        default_modem: i === 0,
        active: true,
        send_sms_from_api: true,
        recipient_prefix: [],
        sim_pin: '',
      })),
    };
    await writeFile(this.configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  }

  /** The first-run setup code, read where the operator reads it: state_dir/setup-code. */
  async setupCode() {
    return (await readFile(path.join(this.dir, 'state', 'setup-code'), 'utf8')).trim();
  }

  async startSim(m, name) {
    m.link = path.join(this.dir, name);
    const args = ['--link', m.link, '--send-delay-ms', '20'];
    if (m.imei) args.push('--imei', m.imei);
    for (const [from, text] of m.incoming || []) args.push('--incoming', `${from}=${text}`);
    const sim = new Child(`sim ${m.id}`, this.simBinary, args);
    this.sims.set(m.id, sim);
    // It prints its pty path once the link exists.
    await waitFor(`the simulator of ${m.id} to print its port`, () => {
      if (!sim.running) throw new Fatal(`otppi-modem-sim exited: ${JSON.stringify(sim.exit)}\n${sim.tail()}`);
      return sim.out.includes('\n');
    }, 10000, 50);
  }

  /** Lines the simulator of modem `id` logged for SMS it accepted: "sim: SMS to 62812*****890 (1 parts)". */
  sentBy(id) {
    return this.sims
      .get(id)
      .err.split('\n')
      .filter((l) => l.startsWith('sim: SMS to '));
  }

  async startDaemon() {
    if (this.daemon && this.daemon.running) throw new Error('the daemon is running already');
    const env = { ...process.env };
    delete env.NOTIFY_SOCKET; // not a systemd service here
    this.daemon = new Child('otppi', this.binary, ['--config', this.configPath], { cwd: this.dir, env });
    const daemon = this.daemon;
    await waitFor('the daemon to answer GET /admin/api/session', async () => {
      if (!daemon.running) throw new Fatal(`otppi exited at start with ${JSON.stringify(daemon.exit)}`);
      const r = await request(`${this.base}/admin/api/session`);
      return r.status === 200;
    }, 20000, 100).catch((e) => {
      throw new Error(`${e.message}\n--- daemon output ---\n${daemon.tail()}`);
    });
  }

  /** SIGTERM; the daemon must end by itself with status 0. */
  async stopDaemon() {
    const d = this.daemon;
    if (!d) return;
    const exit = await d.stop(20000);
    this.daemonLogs += d.out + d.err;
    this.daemon = null;
    if (exit.code !== 0) throw new Error(`otppi did not exit 0 on SIGTERM but with ${JSON.stringify(exit)}:\n${d.tail()}`);
  }

  async restartDaemon() {
    await this.stopDaemon();
    await this.startDaemon();
  }

  async readConfig() {
    return JSON.parse(await readFile(this.configPath, 'utf8'));
  }

  /** Everything still running is stopped; the temp dir goes unless keep. Never throws. */
  async teardown({ keep = false } = {}) {
    if (this.daemon && this.daemon.running) {
      await this.daemon.stop(20000).catch(() => {});
      this.daemonLogs += this.daemon.out + this.daemon.err;
    }
    await Promise.all([...this.sims.values()].map((s) => s.stop(5000).catch(() => {})));
    if (this.dir && !keep) await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }

  /** Output of every process so far, for a failure report. */
  diagnostics(lines = 40) {
    const parts = [];
    if (this.daemon) parts.push(`--- otppi (running) ---\n${this.daemon.tail(lines)}`);
    else if (this.daemonLogs) parts.push(`--- otppi (last run) ---\n${this.daemonLogs.trimEnd().split('\n').slice(-lines).join('\n')}`);
    for (const [id, s] of this.sims) parts.push(`--- otppi-modem-sim ${id} ---\n${s.tail(10)}`);
    return parts.join('\n');
  }

  /** All output of the daemon and the simulators, to check that no secret reached a log. */
  allLogs() {
    let text = this.daemonLogs;
    if (this.daemon) text += this.daemon.out + this.daemon.err;
    for (const s of this.sims.values()) text += s.out + s.err;
    return text;
  }
}
