#!/usr/bin/env bash
# REST API throughput against the HTTP limit (docs/benchmarks.md).
#
#   bench/http.sh
#
# Starts the real daemon (no modems, state in a temporary directory, one API
# user) and the bare Beast server (bench/bare_beast.cpp) on 127.0.0.1, then
# runs wrk with the same settings against each target, in rounds:
#   bare     bare Beast server answering "{}" (the limit)
#   verify   verify-otp of an unknown reference (1203): auth cache, JSON,
#            field checks, HMAC of the reference, store lookup
#   echo     echo: auth cache, JSON parse and dump
#   flask-redis  (OTPPI_BENCH_PEERS=1) the same verify-otp request to a Flask +
#            Redis OTP service, the design of OTP-Pi's own stack
#            (bench/peers/flask_otp.py: SHA-512 of the OTP in Redis, 3-minute
#            TTL), under gunicorn (Debian packages python3-flask,
#            python3-redis, redis-server, gunicorn; scripts/install-deps.sh
#            --bench), with its own redis-server on a free loopback port and a
#            temporary directory; the peer's processes share the servers' core
# request-otp is not measured: without a modem every request ends in 1101
# (and each OTP would be cancelled), so it would measure a failure path.
# bench/pipeline.sh (OTPPI_BENCH_MODE=request-otp) measures it with modems.
#
# The servers run on one core and wrk on the other (taskset), so that client
# and server do not compete. Only loopback traffic; every run is bounded by
# its duration, and everything started here is stopped on exit.
#
# Prints a markdown table per round and exits 0 when verify-otp reaches half
# the bare server's requests/s (median over rounds, no errors), 3 when it does
# not, 1 when the set-up fails.
#
# Environment:
#   OTPPI_BENCH_DURATION     wrk duration per measured run   (default 8s)
#   OTPPI_BENCH_WARMUP       wrk warm-up before each run     (default 1s)
#   OTPPI_BENCH_CONNECTIONS  keep-alive connections          (default 32)
#   OTPPI_BENCH_THREADS      wrk threads                     (default 1)
#   OTPPI_BENCH_ROUNDS       rounds of bare/verify/echo      (default 3; the
#                            verdict takes the median ratio over rounds)
#   OTPPI_BENCH_SERVER_CPU   core for the servers            (default 0)
#   OTPPI_BENCH_CLIENT_CPU   core for wrk                    (default 1)
#   OTPPI_BENCH_NICE         e.g. -10 on a machine shared with builds: nice value
#                            for servers and wrk and, while the script runs, for
#                            its session's scheduler autogroup (with autogroups,
#                            plain nice does not reach other sessions); needs root
#   OTPPI_BENCH_NO_BUILD=1   use the binaries as they are
#   OTPPI_BENCH_KEEP=1       keep the temporary directory (config, logs, wrk output)
#   OTPPI_BUILD_DIR          build directory                 (default build)
#   OTPPI_BENCH_DAEMON       daemon binary to measure (default $OTPPI_BUILD_DIR/otppi),
#                            e.g. a build of a proposed change, for an A/B run
#   OTPPI_BENCH_PEERS=1      also measure the Flask + Redis peer (flask-redis)
#   OTPPI_BENCH_PEER_WORKERS gunicorn worker processes of the peer (default 2)
#   OTPPI_BENCH_PEER_THREADS threads per gunicorn worker (gthread; default 4)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

duration="${OTPPI_BENCH_DURATION:-8s}"
warmup="${OTPPI_BENCH_WARMUP:-1s}"
connections="${OTPPI_BENCH_CONNECTIONS:-32}"
threads="${OTPPI_BENCH_THREADS:-1}"
rounds="${OTPPI_BENCH_ROUNDS:-3}"
server_cpu="${OTPPI_BENCH_SERVER_CPU:-0}"
client_cpu="${OTPPI_BENCH_CLIENT_CPU:-1}"
build_dir="${OTPPI_BUILD_DIR:-build}"
daemon_bin="${OTPPI_BENCH_DAEMON:-$build_dir/otppi}"
bare_bin="$build_dir/bench/otppi-bench-bare-beast"
lifetime_s=600  # hard stop for the servers should this script be killed with -9

die() { echo "bench/http.sh: $*" >&2; exit 1; }

# --- tools ------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "installing wrk (Debian package)"
    apt-get install -y -q wrk >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || die "wrk is missing: apt-get install wrk"
fi
for tool in curl python3 taskset; do
  command -v "$tool" >/dev/null || die "$tool is missing (Debian: curl, python3, util-linux)"
done
peers="${OTPPI_BENCH_PEERS:-0}"
if [[ "$peers" == 1 ]]; then
  # Debian's own Python with Debian's Flask and redis modules (not a python3
  # that happens to come first in PATH).
  /usr/bin/python3 -c 'import flask, redis' 2>/dev/null && [[ -x /usr/bin/gunicorn && -x /usr/bin/redis-server ]] ||
    die "the flask-redis peer needs python3-flask python3-redis redis-server gunicorn: scripts/install-deps.sh --bench"
fi

# --- build ------------------------------------------------------------------
if [[ "${OTPPI_BENCH_NO_BUILD:-0}" != 1 ]]; then
  if [[ -f "$build_dir/CMakeCache.txt" ]]; then
    build_log="$(mktemp /tmp/otppi-bench-build.XXXXXX)"
    cmake --build "$build_dir" -j "$(nproc)" --target otppi otppi-bench-bare-beast >"$build_log" 2>&1 ||
      die "build failed (see $build_log); OTPPI_BENCH_NO_BUILD=1 measures the binaries as they are"
    rm -f "$build_log"
  else
    scripts/build.sh
  fi
fi
[[ -x "$daemon_bin" && -x "$bare_bin" ]] || die "missing $daemon_bin or $bare_bin (run scripts/build.sh)"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)"
case "$build_type" in
  Release | RelWithDebInfo) ;;
  *) echo "warning: build type is '${build_type:-unknown}': figures from a non-optimised build mean little" >&2 ;;
esac

# --- cores ------------------------------------------------------------------
pin_server=() pin_client=()
if [[ $(nproc) -ge 2 ]]; then
  pin_server=(taskset -c "$server_cpu")
  pin_client=(taskset -c "$client_cpu")
else
  echo "warning: one core only: client and server share it, ratios still compare like with like" >&2
fi

# --- processes and cleanup --------------------------------------------------
tmp="$(mktemp -d /tmp/otppi-bench-http.XXXXXX)"
daemon_pid="" bare_pid="" peer_pid="" redis_pid="" autogroup_nice=""
stop_pid() {
  local pid="$1"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$daemon_pid"
  stop_pid "$bare_pid"
  stop_pid "$peer_pid"   # gunicorn stops its workers
  stop_pid "$redis_pid"
  [[ -z "$autogroup_nice" ]] || echo "$autogroup_nice" >"/proc/$$/autogroup" 2>/dev/null || true
  if [[ "${OTPPI_BENCH_KEEP:-0}" == 1 ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# On a machine shared with builds: plain nice only ranks processes within one
# scheduler autogroup (one per session), so raise this session's autogroup as
# well, and put it back on exit.
if [[ -n "${OTPPI_BENCH_NICE:-}" ]]; then
  pin_server=(nice -n "$OTPPI_BENCH_NICE" "${pin_server[@]}")
  pin_client=(nice -n "$OTPPI_BENCH_NICE" "${pin_client[@]}")
  if [[ -w /proc/$$/autogroup ]]; then
    old="$(sed -n 's/.* nice //p' "/proc/$$/autogroup")"
    if echo "$OTPPI_BENCH_NICE" >"/proc/$$/autogroup" 2>/dev/null; then autogroup_nice="$old"; fi
  fi
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- daemon: the shipped config with no modems, loopback only ---------------
api_port="$(free_port)"
admin_port="$(free_port)"
python3 - "$repo/config/otppi.json" "$tmp/otppi.json" "$tmp/state" "$api_port" "$admin_port" <<'EOF'
import json, sys
src, dst, state, api_port, admin_port = sys.argv[1:]
c = json.load(open(src))
c["state_dir"] = state
c["api"]["http"] = {"enabled": True, "bind": "127.0.0.1", "port": int(api_port)}
c["api"]["https"]["enabled"] = False
c["api"]["user_rate_limit_per_minute"] = 0  # off (docs/configuration.md); it only limits sending commands anyway
c["admin"]["bind"] = "127.0.0.1"
c["admin"]["port"] = int(admin_port)
c["general"]["log_level"] = "warn"
c["modems"] = []
json.dump(c, open(dst, "w"), indent=2)
EOF
"$daemon_bin" config-check --config "$tmp/otppi.json" >/dev/null || die "derived config rejected (see $tmp/otppi.json)"

password="$(head -c 18 /dev/urandom | base64)"
printf '%s\n' "$password" | "$daemon_bin" api-user add bench --config "$tmp/otppi.json" >/dev/null
auth="Basic $(printf 'bench:%s' "$password" | base64 -w0)"

"${pin_server[@]}" "$daemon_bin" --config "$tmp/otppi.json" >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
"${pin_server[@]}" "$bare_bin" 0 "$lifetime_s" >"$tmp/bare.log" 2>&1 &
bare_pid=$!

peer_port=""
if [[ "$peers" == 1 ]]; then
  redis_port="$(free_port)"
  peer_port="$(free_port)"
  mkdir -p "$tmp/redis"
  # No persistence: the OTPs live 3 minutes; nothing to keep.
  "${pin_server[@]}" /usr/bin/redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$tmp/redis" --save '' \
    --appendonly no --daemonize no --logfile "$tmp/redis.log" >/dev/null 2>&1 &
  redis_pid=$!
  OTPPI_PEER_USER=bench OTPPI_PEER_PASSWORD="$password" OTPPI_PEER_REDIS_PORT="$redis_port" \
    "${pin_server[@]}" /usr/bin/gunicorn --chdir "$repo/bench/peers" --bind "127.0.0.1:$peer_port" \
    --workers "${OTPPI_BENCH_PEER_WORKERS:-2}" --worker-class gthread --threads "${OTPPI_BENCH_PEER_THREADS:-4}" \
    --keep-alive 60 --log-level warning flask_otp:app >"$tmp/peer.log" 2>&1 &
  peer_pid=$!
fi

bare_port=""
for _ in $(seq 100); do
  kill -0 "$daemon_pid" 2>/dev/null || die "daemon exited: $(cat "$tmp/daemon.log")"
  kill -0 "$bare_pid" 2>/dev/null || die "bare server exited: $(cat "$tmp/bare.log")"
  bare_port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/bare.log")"
  if [[ -n "$bare_port" ]] && curl -s -o /dev/null "http://127.0.0.1:$api_port/"; then break; fi
  sleep 0.1
done
[[ -n "$bare_port" ]] || die "bare server did not start"
if [[ "$peers" == 1 ]]; then
  for _ in $(seq 100); do
    kill -0 "$peer_pid" 2>/dev/null || die "gunicorn exited: $(cat "$tmp/peer.log")"
    kill -0 "$redis_pid" 2>/dev/null || die "redis-server exited: $(cat "$tmp/redis.log")"
    if curl -s -o /dev/null "http://127.0.0.1:$peer_port/"; then break; fi
    sleep 0.1
  done
fi

# --- targets ----------------------------------------------------------------
# The bare server gets the verify-otp request byte for byte (and ignores it).
verify_body='{"command":"verify-otp","data":{"receiver":"081234567890","reference":"bench-0000000001","otp":"123456"}}'
echo_body='{"command":"echo","data":{"receiver":"081234567890","reference":"bench-0000000001","otp":"123456"}}'
# name | port | body | what a correct answer contains
targets=(
  "bare|$bare_port|$verify_body|{}"
  "verify-otp|$api_port|$verify_body|\"response_code\":\"1203\""
  "echo|$api_port|$echo_body|\"response_code\":\"0000\""
)
[[ "$peers" != 1 ]] || targets+=("flask-redis|$peer_port|$verify_body|\"response_code\":\"1203\"")

# One correct answer per target before any load (this also puts the API user
# in the daemon's auth cache: the first request pays one scrypt hash).
for t in "${targets[@]}"; do
  IFS='|' read -r name port body expect <<<"$t"
  answer="$(curl -s -X POST -H 'Content-Type: application/json' -H "Authorization: $auth" \
    --data "$body" "http://127.0.0.1:$port/api/otp")"
  [[ "$answer" == *"$expect"* ]] || die "$name: unexpected answer: $answer"
done

cpu_ticks() {  # pid... -> their user + system ticks, summed
  local sum=0 pid
  for pid in "$@"; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done
  echo "$sum"
}
server_pids() {  # target -> its server processes (the peer: gunicorn, its workers, redis)
  case "$1" in
    bare) echo "$bare_pid" ;;
    flask-redis) echo "$peer_pid $(pgrep -P "$peer_pid" | tr '\n' ' ') $redis_pid" ;;
    *) echo "$daemon_pid" ;;
  esac
}
clk_tck="$(getconf CLK_TCK)"

run_wrk() {  # port body duration -> wrk's report, ending with a BENCH line
  OTPPI_BENCH_AUTH="$auth" OTPPI_BENCH_BODY="$2" "${pin_client[@]}" wrk -t"$threads" -c"$connections" -d"$3" --latency \
    -s bench/wrk/post_json.lua "http://127.0.0.1:$1/api/otp"
}

echo "otppi HTTP benchmark: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$([[ -z "$(git status --porcelain -- src include 2>/dev/null)" ]] || echo ' +local changes in src/include'), $build_type build; daemon $daemon_bin"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -r)"
echo "wrk: -t$threads -c$connections -d$duration (warm-up $warmup) on core $client_cpu; servers on core $server_cpu; nice ${OTPPI_BENCH_NICE:-0}"
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine takes CPU from the servers: see the server CPU column)"
echo

results="$tmp/results.txt"
: >"$results"
for round in $(seq "$rounds"); do
  for t in "${targets[@]}"; do
    IFS='|' read -r name port body expect <<<"$t"
    read -r -a pids <<<"$(server_pids "$name")"
    run_wrk "$port" "$body" "$warmup" >/dev/null
    kill -0 "${pids[0]}" 2>/dev/null || die "the $name server exited during the warm-up (interrupted?)"
    before="$(cpu_ticks "${pids[@]}")"
    run_wrk "$port" "$body" "$duration" >"$tmp/wrk-$round-$name.txt"
    kill -0 "${pids[0]}" 2>/dev/null || die "the $name server exited during the run (interrupted?)"
    after="$(cpu_ticks "${pids[@]}")"
    line="$(grep '^BENCH ' "$tmp/wrk-$round-$name.txt")" || die "$name: no result from wrk: $(cat "$tmp/wrk-$round-$name.txt")"
    non2xx="$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$tmp/wrk-$round-$name.txt")"
    echo "$round $name ${line#BENCH } non2xx=${non2xx:-0} cpu_ticks=$((after - before))" >>"$results"
  done
done

python3 - "$results" "$clk_tck" "${OTPPI_BENCH_NICE:-}" <<'EOF'
import sys
rows, bare = [], {}
for line in open(sys.argv[1]):
    parts = line.split()
    r = {"round": parts[0], "name": parts[1]}
    r.update({k: int(v) for k, v in (p.split("=") for p in parts[2:])})
    r["rps"] = r["requests"] * 1e6 / r["duration_us"]
    r["cpu"] = 100.0 * r["cpu_ticks"] / int(sys.argv[2]) / (r["duration_us"] / 1e6)
    if r["name"] == "bare":
        bare[r["round"]] = r["rps"]
    rows.append(r)
print("| round | target | req/s | p50 ms | p99 ms | server CPU | req per server CPU-s | errors | vs bare |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    errors = sum(r[k] for k in r if k.startswith("err_")) + r["non2xx"]
    per_cpu = r["rps"] / (r["cpu"] / 100) if r["cpu"] > 0 else 0
    print("| {round} | {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {cpu:.0f}% | {per_cpu:,.0f} | {errors} | {ratio:.2f} |".format(
        round=r["round"], name=r["name"], rps=r["rps"], p50=r["p50_us"] / 1000, p99=r["p99_us"] / 1000,
        cpu=r["cpu"], per_cpu=per_cpu, errors=errors, ratio=r["rps"] / bare[r["round"]]))
print()
names = [n for n in ("verify-otp", "echo", "flask-redis") if any(r["name"] == n for r in rows)]
for name in names:
    ratios = sorted(r["rps"] / bare[r["round"]] for r in rows if r["name"] == name)
    d = 3 if name == "flask-redis" else 2  # the peer's ratio is small
    print("{} / bare: median {:.{d}f} over {} round(s) (min {:.{d}f}, max {:.{d}f})".format(
        name, ratios[(len(ratios) - 1) // 2], len(ratios), ratios[0], ratios[-1], d=d))
# Requests per CPU-second of the server: the same comparison, less sensitive
# to other processes taking the server's core for a while.
per_cpu = {(r["round"], r["name"]): r["rps"] / r["cpu"] for r in rows if r["cpu"] > 0}
for name in names:
    ratios = sorted(per_cpu[(r["round"], name)] / per_cpu[(r["round"], "bare")] for r in rows
                    if r["name"] == name and (r["round"], name) in per_cpu and (r["round"], "bare") in per_cpu)
    if ratios:
        d = 3 if name == "flask-redis" else 2
        print("{} / bare per server CPU-second: median {:.{d}f} (min {:.{d}f}, max {:.{d}f})".format(
            name, ratios[(len(ratios) - 1) // 2], ratios[0], ratios[-1], d=d))
ratios = sorted(r["rps"] / bare[r["round"]] for r in rows if r["name"] == "verify-otp")
median = ratios[(len(ratios) - 1) // 2]  # the lower middle for an even count
if any(r["cpu"] < 90 for r in rows):
    print("note: a server had less than 90% of its core: it waited for wrk, or other processes took the CPU" +
          ("" if sys.argv[3] else " (try OTPPI_BENCH_NICE=-10)"))
failed = [r for r in rows if sum(r[k] for k in r if k.startswith("err_")) + r["non2xx"] > 0]
if failed:
    print("errors in: " + ", ".join(sorted({r["name"] for r in failed})) + " (the figures of those runs do not count)")
if "flask-redis" in names:
    # The peer against otppi's verify-otp, round by round.
    v = {r["round"]: r["rps"] for r in rows if r["name"] == "verify-otp"}
    ratios = sorted(r["rps"] / v[r["round"]] for r in rows if r["name"] == "flask-redis" and r["round"] in v)
    print("flask-redis / verify-otp: median {:.3f} (min {:.3f}, max {:.3f})".format(ratios[(len(ratios) - 1) // 2], ratios[0], ratios[-1]))
# The verdict is otppi's: errors of the peer are reported above but do not decide it.
ok = median >= 0.5 and not [r for r in failed if r["name"] != "flask-redis"]
print("verify-otp target (median >= 0.50 of bare, no errors): {}".format("PASS" if ok else "FAIL"))
sys.exit(0 if ok else 3)
EOF
