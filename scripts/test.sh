#!/usr/bin/env bash
# The README's test command: installs the dependencies, builds everything and
# runs every test with ctest. Exits non-zero on any failure.
#   OTPPI_SANITIZE=1 scripts/test.sh   the same under ASan+UBSan (build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
if [[ "${OTPPI_SANITIZE:-0}" == "1" ]]; then
  export OTPPI_BUILD_DIR="${OTPPI_BUILD_DIR:-build-asan}"
  export OTPPI_BUILD_TYPE=Debug
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  scripts/build.sh --dev -DOTPPI_BUILD_TESTS=ON -DOTPPI_SANITIZE=ON
else
  # The configuration and build directory scripts/run.sh uses too: after a
  # run, this compiles only what the run did not need (the tests, bench/).
  export OTPPI_BUILD_DIR="${OTPPI_BUILD_DIR:-build}"
  scripts/build.sh --dev -DOTPPI_BUILD_TESTS=ON
fi
# The web UI tests' one npm package (playwright-core, pinned in tests/web/package-lock.json):
# installed again whenever the lock file changed since the last install.
stamp=tests/web/node_modules/.otppi-package-lock.json
if ! cmp -s tests/web/package-lock.json "$stamp"; then
  (cd tests/web && npm ci --no-audit --no-fund)
  cp tests/web/package-lock.json "$stamp"
fi
cd "$OTPPI_BUILD_DIR"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" --timeout 300
