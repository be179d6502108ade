#!/usr/bin/env bash
# The API contract against a live hub: Schemathesis generates requests from
# Sources/HubHTTP/openapi.yaml (valid ones and invalid ones) and checks every answer against the
# document: no server error, a documented status, content type, headers and body schema, and
# invalid input refused. Runs once with a commune's credential over the sync routes and once
# with a reviewer's over the review API.
#
# Builds nothing: it uses the debug synchub of `swift build` / `swift test` (.build/debug).
# Installs a pinned Schemathesis into .build-contract/venv on first use (PyPI).
# Environment: CONTRACT_EXAMPLES (per operation, default 100), CONTRACT_SEED (default 2026).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
synchub="$root/.build/debug/synchub"
venv="$root/.build-contract/venv"
schemathesis_version=4.32.5
examples=${CONTRACT_EXAMPLES:-100}
seed=${CONTRACT_SEED:-2026}

[ -x "$synchub" ] || { echo "contract: $synchub is missing: run 'swift build' (or 'swift test') first" >&2; exit 1; }
command -v sqlite3 > /dev/null || { echo "contract: the sqlite3 shell is missing: run Deploy/setup-debian.sh" >&2; exit 1; }
if [ "$("$venv/bin/st" --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)" != "$schemathesis_version" ]; then
  python3 -m venv "$venv" || { echo "contract: python3 cannot make a venv: install python3-venv (Deploy/setup-debian.sh)" >&2; exit 1; }
  "$venv/bin/pip" install --quiet "schemathesis==$schemathesis_version"
fi

work=$(mktemp -d /tmp/communesync-contract.XXXX)
hub_pid=
cleanup() {
  if [ -n "$hub_pid" ]; then kill "$hub_pid" 2> /dev/null || true; wait "$hub_pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/hub.toml" <<TOML
replica = "200"
database = "$work/hub.db"
rules = "$root/Config/rules.toml"
[listen]
host = "127.0.0.1"
port = 0
TOML
"$synchub" serve --config "$work/hub.toml" > "$work/hub.log" 2>&1 &
hub_pid=$!
for _ in $(seq 1 100); do grep -q "listening" "$work/hub.log" 2> /dev/null && break; sleep 0.1; done
port=$(grep -o 'address=127.0.0.1:[0-9]*' "$work/hub.log" | head -1 | cut -d: -f2)
[ -n "$port" ] || { echo "contract: synchub did not start; its log:" >&2; cat "$work/hub.log" >&2; exit 1; }
url="http://127.0.0.1:$port"

# District staff load the units (Deploy/demo); the hub issues a commune's and a reviewer's credential.
sqlite3 -cmd '.timeout 10000' "$work/hub.db" ".cd $root/Deploy/demo" ".read units.sql"
commune=$("$synchub" credential issue --config "$work/hub.toml" --replica 06913)
reviewer=$("$synchub" credential issue --config "$work/hub.toml" --replica reviewer-1 --reviewer)

# The version headers are not forced with --header: the document names the one protocol and
# schema version this build speaks, so Schemathesis sends them in valid requests and other
# values (which must be refused) in invalid ones.
run() {
  local who=$1 token=$2 paths=$3
  echo "== contract: $who credential, $paths"
  # From the temporary folder: Schemathesis keeps its example cache in the current one.
  (cd "$work" && "$venv/bin/st" run "$root/Sources/HubHTTP/openapi.yaml" --url "$url" \
    --checks all --max-examples "$examples" --seed "$seed" --no-color \
    --header "Authorization: Bearer $token" \
    --include-path-regex "$paths" \
    --request-timeout 10 --suppress-health-check all)
}
status=0
run commune "$commune" '^/(v1/(push|pull|snapshot|own|digest|rows)|health|metrics)$' || status=1
run reviewer "$reviewer" '^/v1/(conflicts|reviews)' || status=1
if ! kill -0 "$hub_pid" 2> /dev/null; then
  echo "contract: synchub died during the run; its log:" >&2; tail -50 "$work/hub.log" >&2; status=1
fi
exit $status
