#!/usr/bin/env bash
# Runs CommuneSync under a real systemd: boots a Debian container whose PID 1 is systemd
# (systemd-nspawn), installs the hub and an office from the Debian packages Deploy/package.sh
# builds (or with Deploy/install.sh), and checks what an admin relies on: READY and status
# text, a sync round, the watchdog, restarts, a clean stop, the journal and its priorities,
# the permissions model, syncctl as an office user, an upgrade while offline with pending
# changes, the unit's exposure score (systemd-analyze security), and removing a package.
#
#   bash Deploy/systemd-test.sh                  # builds a release (--static-swift-stdlib)
#   bash Deploy/systemd-test.sh --binaries DIR   # programs already built (e.g. .build/debug)
#   bash Deploy/systemd-test.sh --install script # Deploy/install.sh instead of the packages
#
# Needs root, systemd-nspawn and debootstrap (Deploy/setup-debian.sh installs them) and the
# Debian mirror for the first run; the bootstrapped tree is kept in $COMMUNESYNC_NSPAWN_CACHE
# (default /var/cache/communesync/nspawn) and copied for each run. Exit 0 all passed,
# 1 a check failed, 77 cannot run here (the reason is printed).
set -euo pipefail
started=$SECONDS
root=$(cd "$(dirname "$0")/.." && pwd)
binaries=""
install=packages
while [ $# -gt 0 ]; do
  case "$1" in
    --binaries) binaries=$(cd "${2:?--binaries needs a directory}" && pwd); shift ;;
    --install) install="${2:?--install needs packages or script}"; shift ;;
    *) echo "unknown option $1 (use --binaries DIR, --install packages|script)" >&2; exit 64 ;;
  esac
  shift
done

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (systemd-nspawn boots a container)"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (apt-get install systemd-container)"
command -v nsenter >/dev/null || skip "nsenter is not installed (util-linux)"
case "$install" in packages|script) ;; *) echo "--install takes packages or script" >&2; exit 64 ;; esac
cache=${COMMUNESYNC_NSPAWN_CACHE:-/var/cache/communesync/nspawn}
# Named by what it holds: a tree bootstrapped with other packages is not reused.
template=$cache/bookworm-2
if [ ! -e "$template/.complete" ]; then
  command -v debootstrap >/dev/null || skip "debootstrap is not installed (apt-get install debootstrap)"
fi

failures=0
ok() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
section() { echo; echo "== $*"; }

section "programs"
if [ -z "$binaries" ]; then
  (cd "$root" && swift build -c release --static-swift-stdlib)
  binaries="$root/.build/release"
fi
for program in syncd synchub syncctl; do
  [ -x "$binaries/$program" ] || { echo "no $binaries/$program: build first" >&2; exit 66; }
done
echo "from $binaries"
# Programs built without --static-swift-stdlib load the toolchain's runtime: bind it in.
runtime_binds=()
runpath=$(readelf -d "$binaries/syncd" 2>/dev/null | sed -n 's/.*runpath: \[\(.*\)\]/\1/p' | tr ':' '\n' | grep '^/' || true)
for dir in $runpath; do [ -d "$dir" ] && runtime_binds+=("--bind-ro=$dir"); done
work=$(mktemp -d /var/tmp/communesync-systemd-test.XXXXXX)
mkdir -p "$work/packages"
if [ "$install" = packages ]; then
  bash "$root/Deploy/package.sh" --binaries "$binaries" --out "$work/packages" | sed 's/^/  built /'
fi

section "container"
if [ ! -e "$template/.complete" ]; then
  echo "bootstrapping Debian bookworm into $template (once; a minute or two)"
  rm -rf "$template"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libsqlite3-0,libcurl4,sqlite3,ca-certificates \
    bookworm "$template" >"$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log"; skip "debootstrap failed (no Debian mirror?)"; }
  touch "$template/.complete"
fi
machine=communesync-test-$$
nspawn_pid=""
cleanup() {
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    inside systemctl poweroff >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn_pid" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
cp -a "$template" "$work/root"
mkdir -p /run/systemd/nspawn
# A private network: the hub's port and everything else stay inside the container.
systemd-nspawn -D "$work/root" --machine="$machine" --register=no --keep-unit --private-network \
  --bind-ro="$root:/src" --bind-ro="$binaries:/opt/communesync-build" --bind-ro="$work/packages:/opt/communesync-packages" \
  "${runtime_binds[@]}" \
  -b >"$work/console.log" 2>&1 &
nspawn_pid=$!
leader=""
for _ in $(seq 1 200); do
  leader=$(ps -eo pid=,ppid=,comm= | awk -v parent="$nspawn_pid" '$2 == parent && $3 == "systemd" { print $1 }')
  [ -n "$leader" ] && break
  kill -0 "$nspawn_pid" 2>/dev/null || { cat "$work/console.log"; skip "systemd-nspawn could not boot a container here"; }
  sleep 0.1
done
[ -n "$leader" ] || skip "the container's systemd did not start"
# Runs a command inside the booted container, as root, in its namespaces.
inside() { nsenter --target "$leader" --mount --uts --ipc --net --pid -- /usr/bin/env -i \
  PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 "$@"; }
as_user() { local user=$1; shift; inside runuser -u "$user" -- "$@"; }
# Polls "$@" for up to 30 s; the checks below say what they wait for.
wait_for() { for _ in $(seq 1 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
# systemctl answers once PID 1 has its private socket; then wait for the boot to finish.
wait_for inside test -S /run/systemd/private || skip "the container's systemd never opened its control socket"
state=$(inside systemctl is-system-running --wait || true)
echo "booted: PID 1 is $(inside cat /proc/1/comm), system $state, $(inside systemctl --version | head -1)"
main_pid() { inside systemctl show -p MainPID --value syncd; }

# Installs (or upgrades) one role: hub or office.
install_role() {
  if [ "$install" = packages ]; then
    inside sh -c "dpkg -i /opt/communesync-packages/communesync-tools_*.deb /opt/communesync-packages/communesync-$1_*.deb" 2>&1 | sed 's/^/  /' || true
  elif [ "$1" = hub ]; then
    inside bash /src/Deploy/install.sh --hub --binaries /opt/communesync-build | sed 's/^/  /'
  else
    inside bash /src/Deploy/install.sh --binaries /opt/communesync-build | sed 's/^/  /'
  fi
}

section "install: the hub, then an office ($([ "$install" = packages ] && echo "Debian packages, dpkg -i" || echo Deploy/install.sh))"
install_role hub
install_role office
if [ "$install" = packages ]; then
  installed() { [ "$(inside dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
  for package in communesync-tools communesync-hub communesync-office; do
    check "dpkg: $package is installed" installed "$package"
  done
  check "the programs are in /usr/bin" inside test -x /usr/bin/syncd -a -x /usr/bin/synchub -a -x /usr/bin/syncctl
  check "syncctl's man pages are installed" inside test -s /usr/share/man/man1/syncctl.1.gz -a -s /usr/share/man/man1/syncctl.status.1.gz
  check "syncd's and synchub's man pages are installed" inside test -s /usr/share/man/man1/syncd.1.gz -a -s /usr/share/man/man1/synchub.1.gz
  check "syncctl's completions for bash, zsh and fish are installed" inside test -s /usr/share/bash-completion/completions/syncctl \
    -a -s /usr/share/zsh/vendor-completions/_syncctl -a -s /usr/share/fish/vendor_completions.d/syncctl.fish
  check "the packages enabled syncd, synchub and the backup timer" inside systemctl is-enabled --quiet syncd synchub synchub-backup.timer
  check "the packages' maintainer scripts made the accounts" inside sh -c 'getent passwd communesync >/dev/null && getent group communesync-writers >/dev/null'
fi
# Two people: a clerk whose programs write the register, and a user who is nobody to it.
inside useradd --create-home --groups communesync-writers clerk
inside useradd --create-home outsider
inside systemctl start synchub
check "synchub is active" inside systemctl is-active --quiet synchub
check "the hub created its replica" wait_for inside test -s /var/lib/communesync/hub.db
# District staff load the reference data with plain SQL, as members of the writers group.
check "a district writer loads the units into the hub's replica" as_user clerk sqlite3 -cmd ".timeout 10000" \
  /var/lib/communesync/hub.db ".cd /src/Deploy/demo" ".read units.sql"
inside sh -c 'umask 077; synchub credential issue --config /etc/communesync/hub.toml --replica 06913 > /etc/communesync/credential'
inside sed -i 's/^interval_s = .*/interval_s = 2/; s/^max_backoff_s = .*/max_backoff_s = 2/' /etc/communesync/commune.toml
# Only for this test: the watchdog and the restart pause short enough to watch.
inside mkdir -p /etc/systemd/system/syncd.service.d
inside sh -c 'printf "[Service]\nWatchdogSec=6\nTimeoutAbortSec=5\nRestartSec=1\n" > /etc/systemd/system/syncd.service.d/test.conf'
inside systemctl daemon-reload

section "syncd under systemd"
inside systemctl start syncd
check "systemctl start syncd returned only after READY=1 (Type=notify): is-active" inside systemctl is-active --quiet syncd
check "systemctl status shows the daemon's own status text" wait_for sh -c "nsenter --target $leader --mount --pid -- systemctl status syncd --no-pager | grep -q 'Status: \"last round ok'"
inside systemctl status syncd --no-pager 2>&1 | sed -n '1,6p' | sed 's/^/  /'

section "a sync round between office and hub"
check "the office bootstrapped the units from the hub" wait_for sh -c "[ \"\$(nsenter --target $leader --mount -- runuser -u clerk -- sqlite3 /var/lib/communesync/replica.db 'SELECT count(*) FROM units')\" = 11 ]"
check "the clerk writes the register" as_user clerk sqlite3 -cmd ".timeout 10000" /var/lib/communesync/replica.db \
  "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-systemd', 'unit-06913', 'Nguyễn Văn An');"
check "the write reached the hub" wait_for sh -c "[ \"\$(nsenter --target $leader --mount -- sqlite3 /var/lib/communesync/hub.db \"SELECT full_name FROM persons WHERE id = 'p-systemd'\")\" = 'Nguyễn Văn An' ]"

section "permissions"
modes() { inside stat -c '%a %U:%G %n' "$@" | sed 's/^/  /' || true; }
modes /etc/communesync /etc/communesync/credential /etc/communesync/commune.toml /var/lib/communesync \
  /var/lib/communesync/replica.db /var/lib/communesync/hub.db /run/communesync /run/communesync/syncd.sock
check "the credential is root's alone (0600)" sh -c "[ \"\$(nsenter --target $leader --mount -- stat -c %a:%U /etc/communesync/credential)\" = 600:root ]"
check "the clerk cannot read the credential" bash -c "! nsenter --target $leader --mount -- runuser -u clerk -- cat /etc/communesync/credential 2>/dev/null"
check "syncd's own user cannot read the file either (it gets systemd's copy)" bash -c "! nsenter --target $leader --mount -- runuser -u communesync -- cat /etc/communesync/credential 2>/dev/null"
check "the outsider cannot read the register" bash -c "! nsenter --target $leader --mount -- runuser -u outsider -- sqlite3 /var/lib/communesync/replica.db 'SELECT count(*) FROM persons' 2>/dev/null"
check "the outsider cannot read the hub's replica and credential table" bash -c "! nsenter --target $leader --mount -- runuser -u outsider -- sqlite3 /var/lib/communesync/hub.db 'SELECT count(*) FROM persons' 2>/dev/null"

section "syncctl as the office clerk"
set +e
as_user clerk syncctl status --config /etc/communesync/commune.toml | sed 's/^/  /'
status=${PIPESTATUS[0]}
set -e
check "syncctl status as the clerk: healthy (exit $status)" test "$status" = 0
check "syncctl status --json as the clerk: slashes unescaped, numbers for versions" sh -c \
  "nsenter --target $leader --mount --pid -- runuser -u clerk -- syncctl status --json --config /etc/communesync/commune.toml | grep -q '\"hub_url\":\"http://127.0.0.1:8470\".*\"rules_version\":[0-9]'"
set +e
as_user clerk syncctl doctor --config /etc/communesync/commune.toml | sed 's/^/  /'
doctor=${PIPESTATUS[0]}
outsider_json=$(as_user outsider syncctl status --json --config /etc/communesync/commune.toml)
outsider=$?
set -e
check "syncctl doctor as the clerk: no failure (exit $doctor)" test "$doctor" -lt 2
echo "  outsider: $outsider_json"
check "syncctl status as the outsider: unknown (exit 3) with a JSON error" test "$outsider" = 3
check "... which says the configuration cannot be read, not that it is missing" grep -q '"error":"this user may not read the configuration file' <<<"$outsider_json"

section "the watchdog, a kill, a stop"
pid=$(main_pid)
inside systemctl kill --kill-who=main --signal=SIGSTOP syncd
echo "  SIGSTOP to syncd (pid $pid); WatchdogSec=6"
check "the watchdog killed the stopped syncd and systemd started a new one" wait_for sh -c \
  "p=\$(nsenter --target $leader --mount --pid -- systemctl show -p MainPID --value syncd); [ \"\$p\" != 0 ] && [ \"\$p\" != $pid ] && nsenter --target $leader --mount --pid -- systemctl is-active --quiet syncd"
check "the journal names the watchdog" sh -c "nsenter --target $leader --mount --pid -- journalctl -u syncd --no-pager | grep -q -i watchdog"
pid=$(main_pid)
inside systemctl kill --kill-who=main --signal=SIGKILL syncd
echo "  SIGKILL to syncd (pid $pid)"
check "systemd restarted syncd after SIGKILL" wait_for sh -c \
  "p=\$(nsenter --target $leader --mount --pid -- systemctl show -p MainPID --value syncd); [ \"\$p\" != 0 ] && [ \"\$p\" != $pid ] && nsenter --target $leader --mount --pid -- systemctl is-active --quiet syncd"
inside systemctl stop syncd
check "systemctl stop: inactive, not failed" sh -c "[ \"\$(nsenter --target $leader --mount --pid -- systemctl show -p ActiveState --value syncd)/\$(nsenter --target $leader --mount --pid -- systemctl show -p Result --value syncd)\" = inactive/success ]"
check "syncd logged a clean stop" sh -c "nsenter --target $leader --mount --pid -- journalctl -u syncd --no-pager | grep -q 'stopped cleanly'"
check "the control socket is gone with it" inside test ! -e /run/communesync/syncd.sock
echo "  journalctl -u syncd (last lines):"
inside journalctl -u syncd --no-pager -o cat | tail -n 12 | sed 's/^/    /'

section "upgrade over the running install, the hub offline, changes pending"
inside systemctl start syncd
inside systemctl stop synchub
check "synchub logged its stop" sh -c "nsenter --target $leader --mount --pid -- journalctl -u synchub --no-pager | grep -q 'stopped cleanly'"
check "the clerk writes while the hub is away" as_user clerk sqlite3 -cmd ".timeout 10000" /var/lib/communesync/replica.db \
  "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-offline', 'unit-06913', 'Trần Thị Bình');"
status_is() { as_user clerk syncctl status --config /etc/communesync/commune.toml >/dev/null; [ $? = "$1" ]; }
check "status turns degraded (exit 1) once syncd's round finds the hub away" wait_for status_is 1
install_role office
check "syncd runs again after the upgrade" inside systemctl is-active --quiet syncd
inside systemctl start synchub
check "the change written before the upgrade reached the hub" wait_for sh -c "[ \"\$(nsenter --target $leader --mount -- sqlite3 /var/lib/communesync/hub.db \"SELECT full_name FROM persons WHERE id = 'p-offline'\")\" = 'Trần Thị Bình' ]"
check "status is healthy again" wait_for as_user clerk syncctl status --config /etc/communesync/commune.toml

section "the journal's priorities"
journal() { nsenter --target "$leader" --mount --pid -- journalctl -u syncd --no-pager -o cat "$@"; }
failed_rounds_warned() { journal -p warning | grep 'round failed$' >/dev/null; }
routine_rounds_not_warned() { ! journal -p warning | grep '\] round$' >/dev/null; }
moving_rounds_at_info() { journal -p info | grep '\] round$' >/dev/null; }
one_timestamp() { ! journal | grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' >/dev/null; }
check "journalctl -p warning -u syncd shows the rounds that failed while the hub was away" failed_rounds_warned
check "... and no routine round" routine_rounds_not_warned
check "at info, a round that moved something is there" moving_rounds_at_info
check "no line carries a second timestamp (journald has its own)" one_timestamp
echo "  journalctl -p warning -u syncd (last lines):"
journal -p warning | tail -n 3 | cut -c1-160 | sed 's/^/    /'

section "exposure (systemd-analyze security)"
for unit in syncd synchub; do
  score=$(inside systemd-analyze security "$unit" --no-pager 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \(.*\)/\1/p')
  echo "  $unit.service: overall exposure $score"
  check "$unit exposure at most 2.0" awk -v s="${score%% *}" 'BEGIN { exit !(s != "" && s + 0 <= 2.0) }'
done

if [ "$install" = packages ]; then
  section "removing the office package"
  inside dpkg -r communesync-office 2>&1 | sed 's/^/  /'
  check "dpkg -r stopped syncd" sh -c "! nsenter --target $leader --mount --pid -- systemctl is-active --quiet syncd"
  check "the register's data is kept" inside test -s /var/lib/communesync/replica.db
  check "syncctl (communesync-tools) is still there" inside test -x /usr/bin/syncctl
fi

section "result"
echo "$failures failed; $((SECONDS - started)) s"
[ "$failures" = 0 ]
