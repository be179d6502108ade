# The accounts and file modes of CommuneSync's permissions model (README, "Who may read
# what"), sourced by Deploy/install.sh and by the Debian packages' maintainer scripts
# (installed as /usr/lib/communesync/accounts.sh), so both set up a machine alike.
#
#   communesync_accounts [ROOT]        the service account and the writers group
#   communesync_modes ROLE [ROOT]      owners and modes of /etc/communesync, its files,
#                                      /var/lib/communesync (ROLE: commune or hub)
#
# ROOT: a directory installed into as if it were / (users and groups go into ROOT/etc).

# The service account (nobody logs in as it) and the writers group: the office users whose
# programs write the register, and who may ask syncd for status.
communesync_accounts() {
  local destroot=${1:-}
  local rootopt=()
  [ -n "$destroot" ] && rootopt=(--root "$destroot")
  mkdir -p "$destroot/etc"
  touch "$destroot/etc/group" "$destroot/etc/passwd"
  grep -q '^communesync:' "$destroot/etc/group" || groupadd "${rootopt[@]}" --system communesync
  grep -q '^communesync-writers:' "$destroot/etc/group" || groupadd "${rootopt[@]}" --system communesync-writers
  grep -q '^communesync:' "$destroot/etc/passwd" || useradd "${rootopt[@]}" --system --gid communesync \
    --groups communesync-writers --home-dir /var/lib/communesync --no-create-home --shell /usr/sbin/nologin communesync
}

# Owners by number, read from the target's own files (a scratch root's ids are not the host's).
communesync_id_of() { awk -F: -v name="$3" '$1 == name { print $3 }' "$1/etc/$2"; }

communesync_modes() {
  local role=$1 destroot=${2:-}
  local service_uid writers_gid file
  service_uid=$(communesync_id_of "$destroot" passwd communesync)
  writers_gid=$(communesync_id_of "$destroot" group communesync-writers)
  # Configuration: readable by root, the service and the writers (syncctl reads it); the
  # credential by root alone (syncd gets it from systemd, LoadCredential=).
  install -d -m 0750 -o 0 -g "$writers_gid" "$destroot/etc/communesync"
  chown 0:"$writers_gid" "$destroot/etc/communesync"; chmod 0750 "$destroot/etc/communesync"
  for file in commune.toml hub.toml rules.toml; do
    [ -e "$destroot/etc/communesync/$file" ] || continue
    chown 0:"$writers_gid" "$destroot/etc/communesync/$file"; chmod 0640 "$destroot/etc/communesync/$file"
  done
  if [ -e "$destroot/etc/communesync/credential" ]; then
    chown 0:0 "$destroot/etc/communesync/credential"; chmod 0600 "$destroot/etc/communesync/credential"
  fi
  # State: the service's and the writers' (setgid: files made in it stay the writers group's).
  install -d -m 2770 -o "$service_uid" -g "$writers_gid" "$destroot/var/lib/communesync"
  chown "$service_uid:$writers_gid" "$destroot/var/lib/communesync"; chmod 2770 "$destroot/var/lib/communesync"
  for file in "$destroot"/var/lib/communesync/*.db "$destroot"/var/lib/communesync/*.db-wal "$destroot"/var/lib/communesync/*.db-shm; do
    [ -e "$file" ] || continue
    # An install older than the permissions model left them 0644 or 0640.
    chown "$service_uid:$writers_gid" "$file"; chmod 0660 "$file"
  done
  if [ "$role" = hub ]; then
    install -d -m 2770 -o "$service_uid" -g "$writers_gid" "$destroot/var/backups/communesync"
  fi
}
