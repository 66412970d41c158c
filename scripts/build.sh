#!/usr/bin/env bash
# Configures and builds otppi into build/ (or $OTPPI_BUILD_DIR).
#   scripts/build.sh [--dev] [extra cmake -D options] [--target TARGET...]
#
# --dev is the development configuration that scripts/run.sh and
# scripts/test.sh share, so that they share one build directory and its
# objects: warnings as errors, and the test suite configured when GoogleTest
# is installed (turning it on later only adds the test targets; nothing
# already compiled is compiled again). run.sh then builds only the programs it
# runs (--target otppi otppi-modem-sim) and test.sh everything else.
# Without --target, everything is built.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${OTPPI_BUILD_DIR:-build}"
jobs="$(nproc 2>/dev/null || echo 2)"

options=()
targets=()
if [[ "${1:-}" == "--dev" ]]; then
  shift
  tests=ON
  # Debian's GoogleTest packages (scripts/install-deps.sh --test); elsewhere, assume present.
  if command -v dpkg-query >/dev/null &&
     ! dpkg-query -W -f='${Status}' libgtest-dev 2>/dev/null | grep -q "install ok installed"; then
    tests=OFF
  fi
  options+=(-DOTPPI_WERROR=ON -DOTPPI_BUILD_TESTS="$tests")
fi
while (($#)); do
  if [[ "$1" == "--target" ]]; then
    shift
    targets=("$@")
    break
  fi
  options+=("$1")
  shift
done

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${OTPPI_BUILD_TYPE:-RelWithDebInfo}" "${options[@]}" >/dev/null
if ((${#targets[@]})); then
  echo "build: compiling ${targets[*]} in $build_dir with $jobs jobs (the first build takes a few minutes)"
  cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}"
else
  echo "build: compiling in $build_dir with $jobs jobs (the first build takes a few minutes)"
  cmake --build "$build_dir" -j "$jobs"
fi
