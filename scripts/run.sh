#!/usr/bin/env bash
# The README's run command: installs the dependencies, builds, and runs the
# daemon in the foreground on the default config (config/otppi.json).
# Everything it writes stays in .run/ (state, a demo API user); nothing
# outside the checkout changes. Stop it with Ctrl-C.
#
# It builds only the two programs it runs, in the configuration and build
# directory that scripts/test.sh uses too (scripts/build.sh --dev), so the
# test command afterwards compiles only the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --dev --target otppi otppi-modem-sim

run="$PWD/.run"
mkdir -p "$run/state"
chmod 700 "$run"
config="$run/otppi.json"
# The default config, with its state directory moved into .run/ and the admin
# UI served from this checkout's web/.
sed -e "s|\"/var/lib/otppi\"|\"$run/state\"|" -e "s|\"admin\": {|\"admin\": {\"web_root\": \"$PWD/web\", |" config/otppi.json > "$config"

# Without modem hardware, the project's modem simulator stands in for every
# configured port that does not exist. It plays the phone too: each SMS it
# "delivers" is printed here, text included, so the demo's OTP can be read
# off this terminal and verified (a simulated modem on a developer machine;
# a real modem never shows message text anywhere).
sim_pids=()
if [[ -x build/otppi-modem-sim ]]; then
  for port in $(grep -o '"port": *"/dev/[^"]*"' config/otppi.json | sed 's/.*"\(\/dev\/[^"]*\)"/\1/'); do
    if [[ ! -e "$port" ]]; then
      link="$run/$(basename "$port").sim"
      # Its stdout is only the pty's name; the SMS lines go to stderr, this terminal.
      build/otppi-modem-sim --link "$link" --show-sms --ussd "*888#=Sisa pulsa Anda adalah Rp 12345" >/dev/null &
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
echo "run: each SMS the simulated phone receives shows up here as 'sim: SMS to <number>: <text>'"
echo "run: admin UI at http://localhost:8888/ (the first visit creates the administrator;"
echo "run:   it asks for the setup code the daemon logs at start and writes to .run/state/setup-code)"
build/otppi --config "$config"
