#!/usr/bin/env bash
# Writes what a commune technician reads (syncctl status when healthy, with a refused row, with
# the hub gone and with syncd stopped; conflicts, log, sync, doctor) in Vietnamese and English,
# against a real synchub and syncd, into DIR (default ./technician-screens) as NAME.vi.txt and
# NAME.en.txt. The same run checks each screen (TechnicianScreenTests). Needs what the tests
# need (Deploy/setup-debian.sh).
# Usage: Deploy/technician-screens.sh [DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-technician-screens}")
mkdir -p "$out"
cd "$root"
COMMUNESYNC_SCREENS="$out" swift test --filter TechnicianScreenTests
ls -1 "$out"/*.txt
