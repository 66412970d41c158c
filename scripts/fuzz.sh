#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a while.
#   scripts/fuzz.sh            30 s per target
#   scripts/fuzz.sh 600        a longer run (see docs/fuzzing.md)
#   OTPPI_FUZZ_RUNS=20000 scripts/fuzz.sh
#                              a fixed number of inputs from seed 1: the same
#                              inputs every time (what CI runs)
# Seed corpora live in tests/fuzz/corpus/<target>; new inputs go to a scratch
# copy, crashes to build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
scripts/install-deps.sh --fuzz
CXX=clang++ cmake -S . -B build-fuzz -DOTPPI_FUZZ=ON -DOTPPI_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_at fuzz_pdu fuzz_config fuzz_api fuzz_http fuzz_host fuzz_blocklist
mkdir -p build-fuzz/crashes
status=0
for target in at pdu config api http host blocklist; do
  work="build-fuzz/corpus-$target"
  rm -rf "$work" && mkdir -p "$work" && cp tests/fuzz/corpus/"$target"/* "$work"/
  if [[ -n "${OTPPI_FUZZ_RUNS:-}" ]]; then
    limit=(-runs="$OTPPI_FUZZ_RUNS" -seed=1)
    echo "fuzz: $target, $OTPPI_FUZZ_RUNS inputs from seed 1"
  else
    limit=(-max_total_time="$seconds")
    echo "fuzz: $target for ${seconds}s"
  fi
  if ! build-fuzz/fuzz_"$target" "${limit[@]}" -max_len=4096 -rss_limit_mb=1024 \
        -artifact_prefix=build-fuzz/crashes/"$target"- -print_final_stats=0 "$work" 2> "build-fuzz/fuzz-$target.log"; then
    echo "fuzz: $target FAILED; see build-fuzz/fuzz-$target.log and build-fuzz/crashes/" >&2
    tail -30 "build-fuzz/fuzz-$target.log" >&2
    status=1
  else
    grep -E "^#[0-9]+.*DONE" "build-fuzz/fuzz-$target.log" | tail -1 || true
  fi
done
exit $status
