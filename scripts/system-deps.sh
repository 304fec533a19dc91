#!/usr/bin/env bash
# Installs the Debian packages fleetweb needs. Safe to run repeatedly: it only calls apt-get for
# packages that are missing. Usage: scripts/system-deps.sh run|test
set -euo pipefail
want=(pkg-config default-libmysqlclient-dev build-essential openssl)
if [ "${1:-run}" = "test" ]; then
  # syslog-ng is the real syslog receiver, chromium drives the browser tests, nginx fronts the
  # multi-node topology.
  want+=(syslog-ng-core chromium chromium-driver nginx-light mariadb-server redis-server)
fi
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "Installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
