#!/usr/bin/env bash
# Installs otppi as a system service (Raspberry Pi OS / Debian 12), as root:
# dependencies, build, files under /usr/local and /etc/otppi, the otppi user,
# the udev rule, and the systemd unit (enabled, started).
#   sudo scripts/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "install: run as root (sudo scripts/install.sh)" >&2; exit 1; }
scripts/install-deps.sh
OTPPI_BUILD_TYPE=Release scripts/build.sh -DOTPPI_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr/local -DCMAKE_INSTALL_SYSCONFDIR=/etc
# Keep an existing config: the admin UI writes to it.
if [[ -f /etc/otppi/otppi.json ]]; then
  cp /etc/otppi/otppi.json /etc/otppi/otppi.json.keep
fi
cmake --install build
if [[ -f /etc/otppi/otppi.json.keep ]]; then
  mv /etc/otppi/otppi.json.keep /etc/otppi/otppi.json
fi
# systemd looks for units under /etc or /lib, not /usr/local/lib.
install -m 0644 systemd/otppi.service /etc/systemd/system/otppi.service
install -m 0644 systemd/otppi.sysusers /usr/lib/sysusers.d/otppi.conf
install -m 0644 systemd/70-otppi-modems.rules /etc/udev/rules.d/70-otppi-modems.rules
systemd-sysusers /usr/lib/sysusers.d/otppi.conf
install -d -m 0770 -o root -g otppi /etc/otppi
chown root:otppi /etc/otppi/otppi.json && chmod 0660 /etc/otppi/otppi.json
install -d -m 0750 -o otppi -g otppi /var/lib/otppi
udevadm control --reload-rules && udevadm trigger --subsystem-match=tty || true
systemctl daemon-reload
/usr/local/bin/otppi config-check --config /etc/otppi/otppi.json
systemctl enable --now otppi
echo "install: otppi is running. Add an API user with:"
echo "  sudo -u otppi /usr/local/bin/otppi api-user add NAME --config /etc/otppi/otppi.json"
