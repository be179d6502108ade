#!/usr/bin/env bash
# Takes a picture of every page kind of the review desk (login, the desk with one item of
# each common kind, a filtered page, a duplicate, one item's own page, a refused pick, a
# decision to confirm, the history, the offices, the reports) with headless Chromium against a real synchub, into DIR (default
# ./review-screenshots). Needs what the tests need (Deploy/setup-debian.sh) and a debug build.
# Usage: Deploy/review-screenshots.sh [DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-review-screenshots}")
mkdir -p "$out"
cd "$root"
COMMUNESYNC_SCREENSHOTS="$out" swift test --filter ReviewScreenshotTests
ls -1 "$out"/*.png
