#!/usr/bin/env bash
# Quick start: install what is needed, build, and run the demo end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Deploy/setup-debian.sh
swift build
demo=$(mktemp -d /tmp/communesync-demo.XXXX)
echo "== demo in $demo"
.build/debug/syncctl init --database "$demo/22499.db" --replica 22499
sqlite3 "$demo/22499.db" "INSERT INTO persons(id, full_name, phone) VALUES ('p1', 'Nguyễn Văn An', '0901');
UPDATE persons SET phone = '0902' WHERE id = 'p1';"
.build/debug/syncctl log --database "$demo/22499.db" | tail -5
