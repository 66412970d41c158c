#!/usr/bin/env bash
# Configures and builds otppi into build/ (or $OTPPI_BUILD_DIR).
#   scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${OTPPI_BUILD_DIR:-build}"
jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${OTPPI_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
echo "build: compiling in $build_dir with $jobs jobs (first build takes a few minutes)"
cmake --build "$build_dir" -j "$jobs"
