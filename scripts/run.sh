#!/usr/bin/env bash
# The README's run command: installs the dependencies, builds, and runs the
# daemon in the foreground on the default config (config/otppi.json).
# Everything it writes stays in .run/ (state, a demo API user); nothing
# outside the checkout changes. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

run="$PWD/.run"
mkdir -p "$run/state"
chmod 700 "$run"
config="$run/otppi.json"
# The default config, with its state directory moved into .run/ and the admin
# UI served from this checkout's web/.
sed -e "s|\"/var/lib/otppi\"|\"$run/state\"|" -e "s|\"admin\": {|\"admin\": {\"web_root\": \"$PWD/web\", |" config/otppi.json > "$config"

# Without modem hardware, the project's modem simulator stands in for every
# configured port that does not exist.
sim_pids=()
if [[ -x build/otppi-modem-sim ]]; then
  for port in $(grep -o '"port": *"/dev/[^"]*"' config/otppi.json | sed 's/.*"\(\/dev\/[^"]*\)"/\1/'); do
    if [[ ! -e "$port" ]]; then
      link="$run/$(basename "$port").sim"
      build/otppi-modem-sim --link "$link" --quiet --ussd "*888#=Sisa pulsa Anda adalah Rp 12345" &
      sim_pids+=($!)
      for _ in $(seq 50); do [[ -e "$link" ]] && break; sleep 0.1; done
      sed -i "s|\"$port\"|\"$link\"|" "$config"
      echo "run: no modem at $port; the simulated modem at $link stands in"
    fi
  done
fi
cleanup() { for p in "${sim_pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [[ ! -f "$run/api-credentials" ]]; then
  password="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  printf '%s\n' "$password" | build/otppi api-user add demo --config "$config" >/dev/null
  (umask 077; printf 'demo:%s' "$password" > "$run/api-credentials")
  echo "run: created API user 'demo'; its credentials are in .run/api-credentials"
fi
echo "run: starting otppi on the default config; try the README's curl from another terminal"
echo "run: admin UI at http://localhost:8888/ (the first visit creates the administrator;"
echo "run:   it asks for the setup code the daemon logs at start and writes to .run/state/setup-code)"
build/otppi --config "$config"
