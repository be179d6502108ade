#!/usr/bin/env bash
# Builds CommuneSync's Debian packages with dpkg-deb, one per role and one the two share:
#
#   communesync-tools    syncctl with its man pages and shell completions (bash, zsh, fish),
#                        and the permissions model's accounts (user communesync, group
#                        communesync-writers), created by its maintainer scripts
#   communesync-office   syncd, its systemd unit and an example /etc/communesync/commune.toml
#   communesync-hub      synchub, its unit, the nightly backup timer, example hub.toml and
#                        rules.toml
#
#   bash Deploy/package.sh                       # builds a release (--static-swift-stdlib)
#   bash Deploy/package.sh --binaries DIR        # programs already built in DIR
#   bash Deploy/package.sh --out DIR --version V # where the .deb files go (default
#                                                # .build/packages), their version (default
#                                                # 0.N, N the number of commits)
#
# Install on an office PC:  apt install ./communesync-tools_*.deb ./communesync-office_*.deb
# and on the district hub:  apt install ./communesync-tools_*.deb ./communesync-hub_*.deb
# Configuration files are dpkg conffiles: an upgrade never overwrites an edited one. The
# register's data (/var/lib/communesync) is never removed, not even by purge.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
binaries=""
out="$root/.build/packages"
version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binaries) binaries=$(cd "${2:?--binaries needs a directory}" && pwd); shift ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    --version) version="${2:?--version needs a version}"; shift ;;
    *) echo "unknown option $1 (use --binaries DIR, --out DIR, --version V)" >&2; exit 64 ;;
  esac
  shift
done
command -v dpkg-deb >/dev/null || { echo "dpkg-deb is not installed (it comes with dpkg, on every Debian)" >&2; exit 69; }
[ -n "$version" ] || version="0.$(git -C "$root" rev-list --count HEAD 2>/dev/null || echo 0)"
arch=$(dpkg --print-architecture)

if [ -z "$binaries" ]; then
  (cd "$root" && swift build -c release --static-swift-stdlib --product syncd \
    && swift build -c release --static-swift-stdlib --product synchub \
    && swift build -c release --static-swift-stdlib --product syncctl)
  binaries="$root/.build/release"
fi
for program in syncd synchub syncctl; do
  [ -x "$binaries/$program" ] || { echo "no program $binaries/$program: build first, or name the right --binaries DIR" >&2; exit 66; }
done
# swift-argument-parser's own man page writer, built from the package's copy of it, in a
# build directory of its own (a test run may hold .build's lock while this script runs).
if ! (cd "$root" && swift build -c release --product generate-manual --scratch-path "$root/.build/generate-manual" >"$root/.build/generate-manual.log" 2>&1); then
  tail -20 "$root/.build/generate-manual.log" >&2
  echo "could not build swift-argument-parser's generate-manual (log: .build/generate-manual.log)" >&2; exit 70
fi
manual="$root/.build/generate-manual/release/generate-manual"
[ -x "$manual" ] || { echo "could not build swift-argument-parser's generate-manual" >&2; exit 70; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# The Debian packages that provide the libraries a program links against directly (its
# NEEDED entries, found where the loader finds them); the toolchain's own runtime, when a
# debug build links it, belongs to no package and is left out.
depends_of() {
  local program=$1 needed library
  for needed in $(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    library=$(ldd "$program" | awk -v name="$needed" '$1 == name && $3 ~ /^\// { print $3 }')
    [ -n "$library" ] || continue
    dpkg -S "$(readlink -f "$library")" 2>/dev/null || dpkg -S "$library" 2>/dev/null || true
  done | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g'
}

# stage NAME: a fresh tree for package NAME, its path printed.
stage() { mkdir -p "$work/$1/DEBIAN"; echo "$work/$1"; }

man_pages() {
  local tree=$1 program=$2 pages
  pages=$(mktemp -d "$work/man.XXXX")
  "$manual" "$binaries/$program" --multi-page --section 1 --authors "CommuneSync<communesync@localhost>" \
    --date "$(git -C "$root" log -1 --format=%cs 2>/dev/null || date +%F)" --output-directory "$pages"
  install -d "$tree/usr/share/man/man1"
  for page in "$pages"/*.1; do gzip -9n < "$page" > "$tree/usr/share/man/man1/$(basename "$page").gz"; done
}

control() {
  local tree=$1 name=$2 depends=$3 description=$4
  cat > "$tree/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: CommuneSync <communesync@localhost>
Section: admin
Priority: optional
Depends: $depends
Installed-Size: $(du -sk --exclude=DEBIAN "$tree" | cut -f1)
Homepage: https://localhost/communesync
Description: $description
CONTROL
  cat >> "$tree/DEBIAN/control"
  find "$tree" -path "$tree/DEBIAN" -prune -o -type f -printf '%P\n' | sort | while read -r file; do
    (cd "$tree" && md5sum "$file")
  done > "$tree/DEBIAN/md5sums"
}

script() {
  local tree=$1 which=$2
  # bash (Essential in Debian): accounts.sh uses its arrays.
  { echo "#!/bin/bash"; echo "set -e"; cat; } > "$tree/DEBIAN/$which"
  chmod 0755 "$tree/DEBIAN/$which"
}

# communesync-tools: syncctl, the accounts.
tree=$(stage communesync-tools)
install -D -m 0755 "$binaries/syncctl" "$tree/usr/bin/syncctl"
install -D -m 0644 "$root/Deploy/accounts.sh" "$tree/usr/lib/communesync/accounts.sh"
install -d "$tree/usr/share/bash-completion/completions" "$tree/usr/share/zsh/vendor-completions" "$tree/usr/share/fish/vendor_completions.d"
"$binaries/syncctl" --generate-completion-script bash > "$tree/usr/share/bash-completion/completions/syncctl"
"$binaries/syncctl" --generate-completion-script zsh > "$tree/usr/share/zsh/vendor-completions/_syncctl"
"$binaries/syncctl" --generate-completion-script fish > "$tree/usr/share/fish/vendor_completions.d/syncctl.fish"
man_pages "$tree" syncctl
control "$tree" communesync-tools "$(depends_of "$binaries/syncctl"), passwd, ca-certificates" \
  "CommuneSync: syncctl, the tool of commune technicians and district reviewers" <<'TEXT'
 CommuneSync keeps Vietnam's commune offices' register of officials (cadres, civil
 servants, part-time workers) in sync with their district hub. syncctl checks an
 office (status, doctor), shows what was written and what conflicted, and lets the
 district review and report. This package also creates the service account
 (communesync) and the office writers group (communesync-writers).
TEXT
script "$tree" postinst <<'SCRIPT'
if [ "$1" = configure ]; then
  . /usr/lib/communesync/accounts.sh
  communesync_accounts
fi
SCRIPT

# unit_scripts TREE ROLE UNIT [EXTRA_TIMER]: enable on install, restart a running service on
# upgrade (the new program upgrades the replica in place), stop on removal.
unit_scripts() {
  local tree=$1 role=$2 unit=$3 timer=${4:-}
  script "$tree" postinst <<SCRIPT
if [ "\$1" = configure ]; then
  . /usr/lib/communesync/accounts.sh
  communesync_accounts
  communesync_modes $role
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable $unit >/dev/null 2>&1 || true
    ${timer:+systemctl enable --now $timer >/dev/null 2>&1 || true}
    if systemctl is-active --quiet $unit; then
      systemctl restart $unit
      echo "restarted $unit with the new programs"
    else
      echo "$unit is enabled: edit /etc/communesync, put the credential in place (README), then: systemctl start ${unit%.service}"
    fi
  fi
fi
SCRIPT
  script "$tree" prerm <<SCRIPT
if [ "\$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl disable --now $unit ${timer} >/dev/null 2>&1 || true
fi
SCRIPT
  script "$tree" postrm <<SCRIPT
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
if [ "\$1" = purge ]; then
  echo "the register's data in /var/lib/communesync is kept: remove it by hand if it is really no longer needed"
fi
SCRIPT
}

# communesync-office: syncd.
tree=$(stage communesync-office)
install -D -m 0755 "$binaries/syncd" "$tree/usr/bin/syncd"
install -d "$tree/lib/systemd/system"
sed 's|/usr/local/bin/|/usr/bin/|' "$root/Deploy/systemd/syncd.service" > "$tree/lib/systemd/system/syncd.service"
install -D -m 0640 "$root/Config/commune.toml" "$tree/etc/communesync/commune.toml"
echo /etc/communesync/commune.toml > "$tree/DEBIAN/conffiles"
man_pages "$tree" syncd
control "$tree" communesync-office "communesync-tools (= $version), $(depends_of "$binaries/syncd")" \
  "CommuneSync: syncd, the daemon of a commune office" <<'TEXT'
 Keeps a commune office's copy of the register in a local SQLite file that works
 offline, records every write, and syncs with the district hub over HTTP when the
 link is up. Runs as a systemd service (syncd.service).
TEXT
unit_scripts "$tree" commune syncd.service

# communesync-hub: synchub and its backups.
tree=$(stage communesync-hub)
install -D -m 0755 "$binaries/synchub" "$tree/usr/bin/synchub"
install -d "$tree/lib/systemd/system"
for unit in synchub.service synchub-backup.service synchub-backup.timer; do
  sed 's|/usr/local/bin/|/usr/bin/|' "$root/Deploy/systemd/$unit" > "$tree/lib/systemd/system/$unit"
done
install -D -m 0640 "$root/Config/hub.toml" "$tree/etc/communesync/hub.toml"
install -D -m 0640 "$root/Config/rules.toml" "$tree/etc/communesync/rules.toml"
printf '/etc/communesync/hub.toml\n/etc/communesync/rules.toml\n' > "$tree/DEBIAN/conffiles"
man_pages "$tree" synchub
control "$tree" communesync-hub "communesync-tools (= $version), $(depends_of "$binaries/synchub")" \
  "CommuneSync: synchub, the district hub" <<'TEXT'
 Receives the commune offices' changes, merges them field by field under the
 district's conflict rules, keeps what needs a reviewer for the merge review desk,
 and serves every office its commune's register. SQLite or PostgreSQL. Runs as a
 systemd service (synchub.service) with a nightly backup (synchub-backup.timer).
TEXT
unit_scripts "$tree" hub synchub.service synchub-backup.timer

for name in communesync-tools communesync-office communesync-hub; do
  find "$work/$name" -type d -exec chmod 0755 {} +
  dpkg-deb --root-owner-group --build "$work/$name" "$out/${name}_${version}_${arch}.deb" >/dev/null
  echo "$out/${name}_${version}_${arch}.deb"
done
