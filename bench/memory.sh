#!/usr/bin/env bash
# Memory and start-up figures (docs/benchmarks.md).
#
#   bench/memory.sh
#
# 1. otppi-bench-otp-memory: resident memory of the OTP engine holding N live
#    OTPs for N distinct receivers (bench/otp_memory.cpp; budget 256 MiB).
# 2. The daemon itself, with three configs: the shipped config/otppi.json
#    without modems; the same with 4 modems on serial ports that do not exist
#    (the pool retries them every 5 s); and the same with 4 simulated modems
#    (otppi-modem-sim --link, one process each, started here) that come up.
#    For each: time from exec to READY=1 (NOTIFY_SOCKET is a unix datagram
#    socket that this script listens on, as systemd would), and with the
#    simulated modems also to the last "modem mN: ready" log line; then the
#    idle VmRSS/VmHWM and thread count a few seconds later, then the time from
#    SIGTERM to exit.
# Loopback and ptys only; everything started here is stopped on exit.
#
# Environment:
#   OTPPI_BENCH_OTPS       live OTPs for step 1          (default 1000000)
#   OTPPI_BENCH_STARTS     daemon starts per config      (default 5)
#   OTPPI_BENCH_SETTLE_S   idle seconds before reading RSS (default 3)
#   OTPPI_BENCH_NO_BUILD=1 use the binaries as they are
#   OTPPI_BUILD_DIR        build directory               (default build)
set -euo pipefail
cd "$(dirname "$0")/.."

otps="${OTPPI_BENCH_OTPS:-1000000}"
starts="${OTPPI_BENCH_STARTS:-5}"
settle="${OTPPI_BENCH_SETTLE_S:-3}"
build_dir="${OTPPI_BUILD_DIR:-build}"
daemon_bin="$build_dir/otppi"
memory_bin="$build_dir/bench/otppi-bench-otp-memory"
sim_bin="$build_dir/otppi-modem-sim"

die() { echo "bench/memory.sh: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is missing"

if [[ "${OTPPI_BENCH_NO_BUILD:-0}" != 1 ]]; then
  if [[ -f "$build_dir/CMakeCache.txt" ]]; then
    build_log="$(mktemp /tmp/otppi-bench-build.XXXXXX)"
    cmake --build "$build_dir" -j "$(nproc)" --target otppi otppi-modem-sim otppi-bench-otp-memory >"$build_log" 2>&1 ||
      die "build failed (see $build_log); OTPPI_BENCH_NO_BUILD=1 measures the binaries as they are"
    rm -f "$build_log"
  else
    scripts/build.sh
  fi
fi
[[ -x "$daemon_bin" && -x "$memory_bin" && -x "$sim_bin" ]] || die "missing $daemon_bin, $sim_bin or $memory_bin (run scripts/build.sh)"

tmp="$(mktemp -d /tmp/otppi-bench-memory.XXXXXX)"
sim_pids=() helper_pid=""
stop_pid() {
  local pid="$1"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$helper_pid"  # it stops its daemon on SIGTERM
  for pid in "${sim_pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "otppi memory benchmark: $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt" 2>/dev/null) build"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -r)"
echo

echo "== OTP engine with $otps live OTPs ($memory_bin $otps)"
status=0
"$memory_bin" "$otps" || status=$?
[[ $status -eq 0 ]] || echo "otppi-bench-otp-memory exited with $status (3 means: over the 256 MiB budget)"
echo

# Four simulated SIM800L (default send delay), each on a pty behind a symlink
# in $tmp; they stay up for all starts of the third config.
for i in 1 2 3 4; do
  "$sim_bin" --link "$tmp/modem$i" --quiet >"$tmp/sim$i.out" 2>&1 &
  sim_pids+=($!)
done
for i in 1 2 3 4; do
  for _ in $(seq 100); do [[ -s "$tmp/sim$i.out" ]] && break; sleep 0.05; done
  [[ "$(head -1 "$tmp/sim$i.out")" == "$tmp/modem$i" ]] || die "otppi-modem-sim $i did not start: $(cat "$tmp/sim$i.out")"
done

echo "== daemon: exec to READY=1, idle memory, SIGTERM to exit ($starts start(s) per config)"
# The daemon is run by this python3 helper: it owns the notify socket, the
# child process and the timings, and kills the child if anything goes wrong
# (also on SIGTERM; the child also dies with the helper, PR_SET_PDEATHSIG).
# In the background, so that the INT/TERM trap above runs at once.
python3 - "$daemon_bin" "$tmp" "$starts" "$settle" <<'EOF' &
import ctypes, json, os, re, signal, socket, statistics, subprocess, sys, threading, time

daemon, tmp, starts, settle = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the daemon
libc = ctypes.CDLL(None, use_errno=True)

def die_with_parent():
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def make_config(name, modems):
    c = json.load(open("config/otppi.json"))
    c["state_dir"] = os.path.join(tmp, name, "state")
    c["api"]["http"].update({"bind": "127.0.0.1", "port": free_port()})
    c["admin"].update({"bind": "127.0.0.1", "port": free_port()})
    c["modems"] = modems
    os.makedirs(os.path.join(tmp, name), exist_ok=True)
    path = os.path.join(tmp, name, "otppi.json")
    json.dump(c, open(path, "w"), indent=2)
    subprocess.run([daemon, "config-check", "--config", path], check=True, stdout=subprocess.DEVNULL)
    return path

def status_fields(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
            out[key] = int(value.split()[0])
    return out

def one_start(config, log, modems):
    sock_path = os.path.join(tmp, "notify.sock")
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)
    t0 = time.monotonic()
    proc = subprocess.Popen([daemon, "--config", config], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=die_with_parent)
    # The log goes through here: the time of each "modem <id>: ready" line.
    modems_ready = {}
    def pump():
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            log.write(line)
            m = re.search(r" modem (\S+): ready$", line.rstrip("\n"))
            if m and m.group(1) not in modems_ready:
                modems_ready[m.group(1)] = time.monotonic() - t0
    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        sock.settimeout(30)
        ready = None
        while ready is None:
            msg = sock.recv(4096).decode(errors="replace")
            if "READY=1" in msg.split("\n"):
                ready = time.monotonic() - t0
        time.sleep(settle)
        all_ready = None
        if modems:
            if len(modems_ready) != len(modems):
                raise RuntimeError(f"only {len(modems_ready)} of {len(modems)} modems ready {settle} s after READY=1")
            all_ready = max(modems_ready.values())
        st = status_fields(proc.pid)
        t1 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        stop = time.monotonic() - t1
        reader.join(timeout=5)
        return ready, st, stop, proc.returncode, all_ready
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()

def four(port):
    return [{"id": f"m{i}", "name": f"bench {i}", "port": port(i), "recipient_prefix": [], "default_modem": i == 1}
            for i in range(1, 5)]

configs = [
    ("no modems (config/otppi.json, modems: [])", "none", []),
    ("4 modems on missing ports", "four", four(lambda i: f"/dev/otppi-bench-missing-{i}")),
    ("4 simulated modems (otppi-modem-sim --link), all ready", "sim", four(lambda i: os.path.join(tmp, f"modem{i}"))),
]
rows = []
for label, name, modems in configs:
    config = make_config(name, modems)
    with open(os.path.join(tmp, name, "daemon.log"), "w") as log:
        runs = [one_start(config, log, modems if name == "sim" else []) for _ in range(starts)]
    ready = [r[0] * 1000 for r in runs]
    stop = [r[2] * 1000 for r in runs]
    up = [r[4] * 1000 for r in runs if r[4] is not None]
    last = runs[-1][1]
    codes = sorted({r[3] for r in runs})
    rows.append((label, statistics.median(ready), min(ready), max(ready), up, last, statistics.median(stop), codes))

print("| config | exec to READY=1 ms (median, min-max) | exec to all modems ready ms (median, min-max) | idle VmRSS MiB | VmHWM MiB | RssAnon MiB | threads | SIGTERM to exit ms | exit code |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for label, med, lo, hi, up, st, stop, codes in rows:
    up_s = f"{statistics.median(up):.1f} ({min(up):.1f}-{max(up):.1f})" if up else "-"
    print(f"| {label} | {med:.1f} ({lo:.1f}-{hi:.1f}) | {up_s} | {st['VmRSS']/1024:.1f} | {st['VmHWM']/1024:.1f} | "
          f"{st['RssAnon']/1024:.1f} | {st['Threads']} | {stop:.1f} | {','.join(map(str, codes))} |")
EOF
helper_pid=$!
status=0
wait "$helper_pid" || status=$?
helper_pid=""
[[ $status -eq 0 ]] || die "the daemon measurements failed (exit $status)"
