#!/usr/bin/env bash
# Cost-first routing with a bounded wait (docs/benchmarks.md#routing-burst):
# a burst of unrouted send-sms over 4 simulated modems of 250 ms each, the
# first of them the default modem (the cheap SIM).
#
#   bench/routing.sh
#
# bench/pipeline.sh with OTPPI_BENCH_DEFAULT_MODEM=1: the real daemon, its
# config marking modem m1 "default_modem", sms.max_queue_wait_s set to
# OTPPI_BENCH_MAX_QUEUE_WAIT_S (default 10). The burst must end within that
# bound + 5 s with the first request's message on m1 (routing target; exit 3 if not).
# The report shows what each modem carried and when. The throughput target
# of pipeline.sh is not checked here (OTPPI_BENCH_TARGET_RATIO, default 0).
#
#   OTPPI_BENCH_MAX_QUEUE_WAIT_S= OTPPI_BENCH_DAEMON=/path/to/older/otppi bench/routing.sh
#
# measures a daemon without the key (the wait unbounded: every unrouted
# message waits for the default modem).
#
# Every other OTPPI_BENCH_* variable of bench/pipeline.sh applies; the latency
# phase is cut to OTPPI_BENCH_SAMPLES=20 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
export OTPPI_BENCH_DEFAULT_MODEM=1
export OTPPI_BENCH_MAX_QUEUE_WAIT_S="${OTPPI_BENCH_MAX_QUEUE_WAIT_S-10}"
export OTPPI_BENCH_SAMPLES="${OTPPI_BENCH_SAMPLES:-20}"
export OTPPI_BENCH_TARGET_RATIO="${OTPPI_BENCH_TARGET_RATIO:-0}"
exec bench/pipeline.sh
