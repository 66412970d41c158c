#!/usr/bin/env bash
# Installs what otppi needs on Debian 12 / Raspberry Pi OS (bookworm), from
# Debian's own packages only. Safe to run again: it skips apt when all is there.
#   scripts/install-deps.sh          build and run dependencies
#   scripts/install-deps.sh --test   also what the test suite uses
#   scripts/install-deps.sh --fuzz   also clang and libFuzzer
#   scripts/install-deps.sh --bench  also wrk and the peers bench/ compares otppi with
#                                    (Kannel; Flask + Redis under gunicorn)
set -euo pipefail

packages=(build-essential cmake pkg-config libboost-dev nlohmann-json3-dev libssl-dev
          libspdlog-dev libcli11-dev libsystemd-dev curl ca-certificates)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(libgtest-dev libgmock-dev openssl python3)
  # The admin UI tests (tests/web): headless Chromium driven from Node.js. A nodejs from
  # elsewhere (NodeSource) brings its own npm and conflicts with Debian's package.
  packages+=(chromium nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk kannel redis-server python3-flask python3-redis gunicorn)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
