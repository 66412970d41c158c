#!/usr/bin/env bash
# SMS pipeline throughput and latency against the simulated modems' limit
# (docs/benchmarks.md).
#
#   bench/pipeline.sh
#
# Runs build/bench/otppi-bench-pipeline (bench/pipeline.cpp) on the real
# daemon binary. It starts N simulated SIM800L modems in its own process
# (ptys, each taking OTPPI_BENCH_SEND_DELAY_MS per SMS), a daemon configured
# with them (state in a temporary directory, API on 127.0.0.1), and measures:
#   burst    OTPPI_BENCH_BURST send-sms requests at once: SMS/s until the last
#            +CMGS, against N / send_delay (16/s for 4 x 250 ms); target 0.95
#   latency  send_delay 0, OTPPI_BENCH_SAMPLES sequential send-sms: request to
#            the +CMGS the simulator sends (which bounds request -> AT+CMGS)
#            and to the HTTP reply; target: median <= 5 ms
# and checks that every message was sent exactly once.
#
#   OTPPI_BENCH_PEER=kannel bench/pipeline.sh
#
# The same two phases against Kannel (Debian package `kannel`: bearerbox with
# one `at` SMSC per simulated modem, smsbox's sendsms interface; config
# template bench/peers/kannel.conf.in) on the same simulated modems. Kannel's
# `at` driver sends about one message per modem every 2 s, so the defaults
# are smaller: a burst of 40 and 20 latency samples (about 65 s).
#
#   OTPPI_BENCH_MODE=request-otp bench/pipeline.sh
#
# request-otp under load instead: OTPPI_BENCH_OTP_CONNECTIONS connections send
# request-otp (distinct receivers) for OTPPI_BENCH_OTP_SECONDS to modems that
# take OTPPI_BENCH_SEND_DELAY_MS (default 5 here) per SMS. request-otp answers
# once its SMS is out, so its rate is bounded by the modems. Every OTP is then
# read from the simulators and verified.
#
# Only loopback traffic and ptys; the request counts are fixed and the run is
# bounded (the program gives up after OTPPI_BENCH_MAX_S); everything started
# here is stopped on exit, also on Ctrl-C.
#
# Exit: 0 both targets met (request-otp: no target), 3 a target missed, 1 a
# lost or duplicated message or a failed set-up.
#
# Environment:
#   OTPPI_BENCH_PEER           otppi or kannel                     (default otppi)
#   OTPPI_BENCH_MODE           send-sms or request-otp             (default send-sms)
#   OTPPI_BENCH_MODEMS         simulated modems                    (default 4)
#   OTPPI_BENCH_SEND_DELAY_MS  each modem's time per SMS in the burst (default 250;
#                              request-otp: 5)
#   OTPPI_BENCH_BURST          send-sms requests in the burst      (default 200; Kannel 40)
#   OTPPI_BENCH_CONNECTIONS    connections for the burst (default: one per request;
#                              the server takes one request at a time per connection)
#   OTPPI_BENCH_SAMPLES        sequential requests, latency phase  (default 200; Kannel 20)
#   OTPPI_BENCH_OTP_SECONDS    request-otp: duration of the load   (default 10)
#   OTPPI_BENCH_OTP_CONNECTIONS request-otp: connections, one request in flight each (default 32)
#   OTPPI_BENCH_KANNEL_LOG_LEVEL Kannel's log-level (default 2, warnings; 0 logs every AT line)
#   OTPPI_BENCH_MAX_S          hard limit for the run              (default 110; Kannel 300)
#   OTPPI_BENCH_DEFAULT_MODEM=1 the first modem is the default modem (bench/routing.sh)
#   OTPPI_BENCH_MAX_QUEUE_WAIT_S sms.max_queue_wait_s for the daemon  (default: not set)
#   OTPPI_BENCH_TARGET_RATIO   burst throughput target as a share of the limit (default 0.95)
#   OTPPI_BENCH_NO_BUILD=1     use the binaries as they are
#   OTPPI_BENCH_KEEP=1         keep the temporary directory (config, daemon log, SMS log)
#   OTPPI_BUILD_DIR            build directory                     (default build)
#   OTPPI_BENCH_DAEMON         daemon binary to measure (default $OTPPI_BUILD_DIR/otppi),
#                              e.g. a build of a proposed change, for an A/B run
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${OTPPI_BUILD_DIR:-build}"
daemon_bin="${OTPPI_BENCH_DAEMON:-$build_dir/otppi}"
bench_bin="$build_dir/bench/otppi-bench-pipeline"

die() { echo "bench/pipeline.sh: $*" >&2; exit 1; }

# --- build ------------------------------------------------------------------
if [[ "${OTPPI_BENCH_NO_BUILD:-0}" != 1 ]]; then
  if [[ -f "$build_dir/CMakeCache.txt" ]]; then
    build_log="$(mktemp /tmp/otppi-bench-build.XXXXXX)"
    cmake --build "$build_dir" -j "$(nproc)" --target otppi otppi-bench-pipeline >"$build_log" 2>&1 ||
      die "build failed (see $build_log); OTPPI_BENCH_NO_BUILD=1 measures the binaries as they are"
    rm -f "$build_log"
  else
    scripts/build.sh
  fi
fi
[[ -x "$daemon_bin" && -x "$bench_bin" ]] || die "missing $daemon_bin or $bench_bin (run scripts/build.sh)"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)"
case "$build_type" in
  Release | RelWithDebInfo) ;;
  *) echo "warning: build type is '${build_type:-unknown}': figures from a non-optimised build mean little" >&2 ;;
esac

# --- processes and cleanup --------------------------------------------------
tmp="$(mktemp -d /tmp/otppi-bench-pipeline.XXXXXX)"
bench_pid=""
cleanup() {
  # The program stops its daemon on SIGTERM (and the daemon dies with it
  # through PR_SET_PDEATHSIG should it be killed outright).
  if [[ -n "$bench_pid" ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$bench_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  if [[ "${OTPPI_BENCH_KEEP:-0}" == 1 ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# One descriptor per connection on both sides of the burst.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "otppi SMS pipeline benchmark: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$([[ -z "$(git status --porcelain -- src include 2>/dev/null)" ]] || echo ' +local changes in src/include'), $build_type build"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -r)"
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

peer="${OTPPI_BENCH_PEER:-otppi}"
mode="${OTPPI_BENCH_MODE:-send-sms}"
burst=200 samples=200 max_s=110 delay=250
if [[ "$peer" == kannel ]]; then
  burst=40 samples=20 max_s=300
  for tool in /usr/sbin/bearerbox /usr/sbin/smsbox; do
    [[ -x "$tool" ]] || die "$tool is missing: apt-get install kannel (scripts/install-deps.sh --bench)"
  done
fi
[[ "$mode" != request-otp ]] || delay=5
args=("$daemon_bin" --work-dir "$tmp" --peer "$peer" --mode "$mode"
  --modems "${OTPPI_BENCH_MODEMS:-4}"
  --send-delay-ms "${OTPPI_BENCH_SEND_DELAY_MS:-$delay}"
  --burst "${OTPPI_BENCH_BURST:-$burst}"
  --samples "${OTPPI_BENCH_SAMPLES:-$samples}"
  --otp-seconds "${OTPPI_BENCH_OTP_SECONDS:-10}"
  --otp-connections "${OTPPI_BENCH_OTP_CONNECTIONS:-32}"
  --kannel-config bench/peers/kannel.conf.in
  --kannel-log-level "${OTPPI_BENCH_KANNEL_LOG_LEVEL:-2}"
  --max-seconds "${OTPPI_BENCH_MAX_S:-$max_s}")
[[ -z "${OTPPI_BENCH_CONNECTIONS:-}" ]] || args+=(--connections "$OTPPI_BENCH_CONNECTIONS")
[[ "${OTPPI_BENCH_DEFAULT_MODEM:-0}" != 1 ]] || args+=(--default-modem)
[[ -z "${OTPPI_BENCH_MAX_QUEUE_WAIT_S:-}" ]] || args+=(--max-queue-wait-s "$OTPPI_BENCH_MAX_QUEUE_WAIT_S")
[[ -z "${OTPPI_BENCH_TARGET_RATIO:-}" ]] || args+=(--target-ratio "$OTPPI_BENCH_TARGET_RATIO")

# In the background, so that the INT/TERM trap runs at once and stops it.
"$bench_bin" "${args[@]}" &
bench_pid=$!
status=0
wait "$bench_pid" || status=$?
bench_pid=""
case "$status" in
  0) ;;
  3) echo "a target was missed (exit 3)" ;;
  *) echo "bench/pipeline.sh: otppi-bench-pipeline exited with $status$([[ "${OTPPI_BENCH_KEEP:-0}" == 1 ]] || echo '; OTPPI_BENCH_KEEP=1 keeps the daemon log')" >&2 ;;
esac
exit "$status"
