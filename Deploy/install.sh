#!/usr/bin/env bash
# Installs CommuneSync on this machine (as root): the programs, the systemd unit, an example
# configuration, the service account and the writers group. Run from a checkout:
#
#   bash Deploy/install.sh                  # a commune office: syncd + syncctl
#   bash Deploy/install.sh --hub            # the district hub: synchub + syncctl
#
# Options and settings:
#   --binaries DIR   install the programs already built in DIR instead of building a release
#                    (swift build -c release --static-swift-stdlib, so that the programs need
#                    no Swift toolchain on the office machine)
#   --root DIR       install into DIR as if it were / (a scratch root, an image being built):
#                    users and groups go into DIR/etc, and systemd is left alone
#   PREFIX=/usr      where the programs go (default /usr/local: PREFIX/bin); the unit's
#                    ExecStart follows it
#
# Never overwrites an existing configuration. Over an older install (an upgrade) it replaces
# the programs, brings file modes to the permissions model and restarts a running service:
# the new syncd upgrades the replica in place, keeping every change not yet at the hub.
# Enables the service; start it once the configuration and the credential are in place
# (see the README, "Install in a commune office").
set -euo pipefail
role=commune
binaries=""
destroot=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hub) role=hub ;;
    --binaries) binaries="${2:?--binaries needs a directory}"; shift ;;
    --root) destroot="${2:?--root needs a directory}"; shift ;;
    *) echo "unknown option $1 (use --hub, --binaries DIR, --root DIR; PREFIX=DIR in the environment)" >&2; exit 64 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "run as root (it creates a user and installs a systemd unit)" >&2; exit 77; }
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}
if [ -n "$destroot" ]; then
  mkdir -p "$destroot"
  destroot=$(cd "$destroot" && pwd)
  [ "$destroot" = / ] && destroot=""
fi

if [ -z "$binaries" ]; then
  (cd "$root" && swift build -c release --static-swift-stdlib)
  binaries="$root/.build/release"
fi
if [ "$role" = hub ]; then programs="synchub syncctl"; unit=synchub.service; config=hub.toml
else programs="syncd syncctl"; unit=syncd.service; config=commune.toml; fi
for program in $programs; do
  [ -x "$binaries/$program" ] || { echo "no program $binaries/$program: build first, or name the right --binaries DIR" >&2; exit 66; }
done

# shellcheck source=Deploy/accounts.sh
. "$root/Deploy/accounts.sh"
communesync_accounts "$destroot"
writers_gid=$(communesync_id_of "$destroot" group communesync-writers)

install -d -m 0755 "$destroot$prefix/bin"
for program in $programs; do
  # Beside the old one, then renamed over it: a running program keeps its file, and nothing
  # ever sees a half-written one.
  install -m 0755 "$binaries/$program" "$destroot$prefix/bin/.$program.new"
  mv -f "$destroot$prefix/bin/.$program.new" "$destroot$prefix/bin/$program"
done

install -d -m 0750 -o 0 -g "$writers_gid" "$destroot/etc/communesync"
if [ -e "$destroot/etc/communesync/$config" ]; then
  echo "kept the existing /etc/communesync/$config"
else
  install -m 0640 -o 0 -g "$writers_gid" "$root/Config/$config" "$destroot/etc/communesync/$config"
  echo "installed an example /etc/communesync/$config: edit it before starting the service"
fi
if [ "$role" = hub ] && [ ! -e "$destroot/etc/communesync/rules.toml" ]; then
  install -m 0640 -o 0 -g "$writers_gid" "$root/Config/rules.toml" "$destroot/etc/communesync/rules.toml"
  echo "installed the example /etc/communesync/rules.toml: the district's conflict rules"
fi
# Owners and modes of the permissions model, over whatever an older install left.
communesync_modes "$role" "$destroot"

install -d -m 0755 "$destroot/etc/systemd/system"
units="$unit"
# The hub also gets its nightly backup (synchub backup, the 14 newest kept).
[ "$role" = hub ] && units="$unit synchub-backup.service synchub-backup.timer"
for each in $units; do
  sed "s|/usr/local/bin/|$prefix/bin/|" "$root/Deploy/systemd/$each" > "$destroot/etc/systemd/system/.$each.new"
  chmod 0644 "$destroot/etc/systemd/system/.$each.new"
  mv -f "$destroot/etc/systemd/system/.$each.new" "$destroot/etc/systemd/system/$each"
done
if [ -z "$destroot" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable "$unit"
  if [ "$role" = hub ]; then systemctl enable --now synchub-backup.timer; fi
  if systemctl is-active --quiet "$unit"; then
    systemctl restart "$unit"
    echo "restarted $unit with the new programs"
  else
    echo "enabled $unit; start it with: systemctl start ${unit%.service}"
  fi
elif [ -n "$destroot" ]; then
  echo "installed into $destroot; enable $unit when that system runs"
else
  echo "systemd is not running here: $unit is installed but not enabled"
fi
echo "add the users whose programs write the register to communesync-writers: usermod -aG communesync-writers NAME"
