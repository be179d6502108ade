#!/usr/bin/env bash
# A throw-away PostgreSQL for tests and CI: a new cluster in a directory of its own, on a
# free port of 127.0.0.1, trusting local connections, with an empty database `hub` owned by
# the role `hub`. Nothing outside the directory is touched; `stop` removes it.
#
#   Deploy/postgres-test.sh start [DIR]   prints the connection URL on stdout (DIR: a new
#                                         temporary directory unless given; it must not exist
#                                         or be empty); how to stop it goes to stderr
#   Deploy/postgres-test.sh stop DIR      stops the server and removes DIR
#   Deploy/postgres-test.sh pause DIR     stops the server and keeps DIR (a benchmark's --keep)
#   Deploy/postgres-test.sh resume DIR    starts a paused cluster again (its port if still free)
#                                         and prints its URL
#
# Needs Debian's postgresql package (Deploy/setup-debian.sh installs it). PostgreSQL refuses
# to run as root, so as root the server runs as `nobody`, which then owns DIR.
set -euo pipefail

bin=${POSTGRES_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    echo "postgres-test: no PostgreSQL server binaries under /usr/lib/postgresql: run 'apt-get install -y postgresql'" >&2
    exit 1
fi

# Runs a command as the cluster's owner: this user, or nobody when this is root.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The server outlives this script: it must not keep open what the caller handed down
# besides stdin, stdout and stderr (a caller that learns of this script's end when such a
# descriptor closes, as Swift's Foundation.Process does, would wait for the server's end).
# Bash reads the script itself from 255, which stays.
close_inherited() {
    local fd
    for fd in $(ls /proc/$$/fd); do
        if (( fd > 2 && fd < 255 )); then eval "exec $fd>&-"; fi
    done
}

start() {
    local dir=${1:-}
    close_inherited
    if [[ -z "$dir" ]]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/communesync-pg.XXXXXX")
    elif [[ -e "$dir" && -n "$(ls -A "$dir")" ]]; then
        echo "postgres-test: $dir is not empty: give a new directory, or none" >&2
        exit 1
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ $(id -u) -eq 0 ]]; then chown nobody:nogroup "$dir"; fi
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U hub -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        echo "postgres-test: initdb failed; its output:" >&2
        cat "$dir/initdb.log" >&2
        exit 1
    }
    serve "$dir"
    local port
    port=$(cat "$dir/port")
    as_owner "$bin/createdb" -h "$dir" -p "$port" -U hub hub
    echo "postgresql://hub@127.0.0.1:$port/hub"
    echo "postgres-test: running from $dir; stop with: $0 stop $dir" >&2
}

# Refuses a directory that holds no cluster of this script (nothing else is ever removed).
ours() {
    if [[ ! -f "$1/data/PG_VERSION" ]]; then
        echo "postgres-test: $1 holds no cluster of this script" >&2
        exit 1
    fi
}

halt() {
    if [[ -f "$1/data/postmaster.pid" ]]; then
        as_owner "$bin/pg_ctl" -D "$1/data" -w -t 30 -m fast stop >/dev/null
    fi
}

# Starts DIR's cluster on PORT if given and free, else on a free port, written to DIR/port.
# Another program may take a port between choosing and binding it: a few are tried.
serve() {
    local dir=$1 port
    for port in "${2:-}" x x x; do
        [[ $port == x || -z $port ]] && port=$(free_port)
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null; then
            echo "$port" >"$dir/port"
            return 0
        fi
    done
    echo "postgres-test: the server did not start; its log:" >&2
    tail -n 40 "$dir/pg.log" >&2
    exit 1
}

stop() {
    local dir=${1:?usage: postgres-test.sh stop DIR}
    ours "$dir"
    halt "$dir"
    rm -rf "$dir"
}

pause() {
    local dir=${1:?usage: postgres-test.sh pause DIR}
    halt "$dir"
    echo "postgres-test: stopped, kept in $dir; start it again with: $0 resume $dir" >&2
}

resume() {
    local dir=${1:?usage: postgres-test.sh resume DIR}
    ours "$dir"
    dir=$(cd "$dir" && pwd)
    close_inherited
    serve "$dir" "$(cat "$dir/port" 2>/dev/null)"
    echo "postgresql://hub@127.0.0.1:$(cat "$dir/port")/hub"
    echo "postgres-test: running from $dir; stop with: $0 stop $dir (removes it) or $0 pause $dir" >&2
}

case "${1:-}" in
    start) start "${2:-}" ;;
    stop) stop "${2:-}" ;;
    pause) pause "${2:-}" ;;
    resume) resume "${2:-}" ;;
    *)
        echo "usage: $0 start [DIR] | stop DIR | pause DIR | resume DIR" >&2
        exit 2
        ;;
esac
