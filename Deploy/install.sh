#!/usr/bin/env bash
# Installs CommuneSync on this machine (as root): the programs, the systemd unit, an example
# configuration, and the service account. Run from a checkout:
#
#   bash Deploy/install.sh            # a commune office: syncd + syncctl
#   bash Deploy/install.sh --hub      # the district hub: synchub + syncctl
#
# Builds a release first unless --binaries DIR names already built programs. Never
# overwrites an existing configuration. Enables the service; start it once the
# configuration and the credential are in place (see the README, "Install in a commune office").
set -euo pipefail
role=commune
binaries=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hub) role=hub ;;
    --binaries) binaries="$2"; shift ;;
    *) echo "unknown option $1 (use --hub, --binaries DIR)" >&2; exit 64 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "run as root (it creates a user and installs a systemd unit)" >&2; exit 77; }
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}

if [ -z "$binaries" ]; then
  (cd "$root" && swift build -c release)
  binaries="$root/.build/release"
fi
if [ "$role" = hub ]; then programs="synchub syncctl"; unit=synchub.service; config=hub.toml
else programs="syncd syncctl"; unit=syncd.service; config=commune.toml; fi

getent group communesync >/dev/null || groupadd --system communesync
getent passwd communesync >/dev/null || useradd --system --gid communesync --home-dir /var/lib/communesync \
  --no-create-home --shell /usr/sbin/nologin communesync

for program in $programs; do install -m 0755 "$binaries/$program" "$prefix/bin/$program"; done
install -d -m 0750 -o root -g communesync /etc/communesync
if [ -e "/etc/communesync/$config" ]; then
  echo "kept the existing /etc/communesync/$config"
else
  install -m 0640 -o root -g communesync "$root/Config/$config" "/etc/communesync/$config"
  echo "installed an example /etc/communesync/$config: edit it before starting the service"
fi
if [ "$role" = hub ] && [ ! -e /etc/communesync/rules.toml ]; then
  install -m 0640 -o root -g communesync "$root/Config/rules.toml" /etc/communesync/rules.toml
  echo "installed the example /etc/communesync/rules.toml: the district's conflict rules"
fi
install -d -m 0770 -o communesync -g communesync /var/lib/communesync
install -m 0644 "$root/Deploy/systemd/$unit" "/etc/systemd/system/$unit"

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable "$unit"
  echo "enabled $unit; start it with: systemctl start ${unit%.service}"
else
  echo "systemd is not running here: $unit is installed but not enabled"
fi
