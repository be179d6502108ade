#!/usr/bin/env bash
# The end-to-end demo on 127.0.0.1: a district hub (Huyện Đầm Hà, code 200) and two commune
# offices (Xã Quảng Tân 06913, Xã Đầm Hà 06916), each a separate process with its own SQLite
# file. Records are typed at all three with the sqlite3 shell, including an edit of the same
# person at the hub and at a commune while that commune is offline; then everything syncs
# and the converged registers are shown. Expects a built tree (swift build).
# DEMO_KEEP=1 leaves the hub and both offices running afterwards, to try syncctl on them (the
# demo prints how, and how to stop them).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.build/debug"
demo=${DEMO_DIR:-$(mktemp -d /tmp/communesync-demo.XXXX)}
port=${DEMO_PORT:-18470}
mkdir -p "$demo"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
sql() { sqlite3 -cmd '.timeout 10000' "$@"; }

say "files in $demo"
cat > "$demo/hub.toml" <<TOML
replica = "200"
database = "$demo/hub.db"
rules = "$root/Config/rules.toml"
[listen]
port = $port
TOML
"$bin/synchub" serve --config "$demo/hub.toml" > "$demo/hub.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening" "$demo/hub.log" 2>/dev/null && break; sleep 0.1; done
grep "listening" "$demo/hub.log" || { echo "synchub did not start:"; cat "$demo/hub.log"; exit 1; }

say "district staff load the units of Huyện Đầm Hà (official codes) at the hub"
sql "$demo/hub.db" ".import --csv $root/Deploy/demo/dam_ha_communes.csv staging" "
INSERT INTO units(id, code, name, kind, parent_id, effective_to)
SELECT 'unit-' || commune_code, commune_code, commune_name,
       CASE commune_type WHEN 'Xã' THEN 'commune' WHEN 'Phường' THEN 'ward' ELSE 'township' END, 'unit-200',
       CASE in_2023_05_07 WHEN '1' THEN NULL ELSE '2019-12-31' END
FROM staging;
DROP TABLE staging;
INSERT INTO units(id, code, name, kind) VALUES ('unit-200', '200', 'Huyện Đầm Hà', 'district');
INSERT INTO titles(id, code, name_vi, name_en, category, level, max_holders, allowance_coefficient) VALUES
  ('t-bt-cb', 'bi_thu_chi_bo', 'Bí thư chi bộ', 'Party-cell secretary', 'nonspecialised_hamlet', 'hamlet', 1, NULL),
  ('t-ct-ubnd', 'chu_tich_ubnd', 'Chủ tịch UBND', 'People''s Committee chair', 'cadre', 'commune', 1, 0.25);"
sql "$demo/hub.db" "SELECT code, name FROM units WHERE kind <> 'district' AND effective_to IS NULL ORDER BY code;"

for commune in 06913 06916; do
  (umask 077; "$bin/synchub" credential issue --config "$demo/hub.toml" --replica "$commune" > "$demo/$commune.credential")
  cat > "$demo/$commune.toml" <<TOML
replica = "$commune"
database = "$demo/$commune.db"
control_socket = "$demo/$commune.sock"
[hub]
url = "http://127.0.0.1:$port"
credential_file = "$demo/$commune.credential"
[sync]
interval_s = 1
TOML
  "$bin/syncd" --config "$demo/$commune.toml" > "$demo/$commune.log" 2>&1 &
  pids+=($!)
done
for commune in 06913 06916; do
  for _ in $(seq 1 100); do [ "$(sql "$demo/$commune.db" 'SELECT count(*) FROM units' 2>/dev/null)" = 12 ] && break; sleep 0.2; done
done
say "both communes bootstrapped the hub's reference data (12 units, 2 titles each)"

say "each office types its people; the district adds one for Quảng Tân"
sql "$demo/06913.db" "
INSERT INTO persons(id, commune_id, full_name, birth_date, gender, ethnicity, citizen_id, phone, degree, political_theory, status)
VALUES ('p-qt-1', 'unit-06913', 'Nguyễn Văn Hùng', '1975-03-02', 'male', 'Kinh', '022075001234', '0912000001', 'university', 'intermediate', 'active'),
       ('p-qt-2', 'unit-06913', 'Lý Thị Mai', '1988-11-20', 'female', 'Dao', '022188004321', '0912000002', 'college', 'elementary', 'active');
INSERT INTO positions(id, commune_id, unit_id, title_id, seat_no, capacity) VALUES ('seat-qt-ct', 'unit-06913', 'unit-06913', 't-ct-ubnd', 1, 1);
INSERT INTO assignments(id, commune_id, person_id, position_id, kind, decision_no, decision_date, start_date)
VALUES ('a-qt-1', 'unit-06913', 'p-qt-1', 'seat-qt-ct', 'primary', '15/QĐ-UBND', '2021-06-01', '2021-06-01');"
sql "$demo/06916.db" "
INSERT INTO persons(id, commune_id, full_name, birth_date, gender, ethnicity, phone, degree, status)
VALUES ('p-dh-1', 'unit-06916', 'Trần Quốc Toản', '1980-07-15', 'male', 'Kinh', '0913000001', 'master', 'active');"
sql "$demo/hub.db" "
INSERT INTO persons(id, commune_id, full_name, gender, status, note)
VALUES ('p-qt-3', 'unit-06913', 'Phạm Đức Long', 'male', 'active', 'tăng cường từ huyện');"
sleep 4

say "Quảng Tân goes offline; it and the district both edit Nguyễn Văn Hùng"
kill "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true
sql "$demo/06913.db" "UPDATE persons SET phone = '0987654321' WHERE id = 'p-qt-1';"
sql "$demo/hub.db" "UPDATE persons SET phone = '0911222333', state_management = 'chuyên viên' WHERE id = 'p-qt-1';"
sleep 3
"$bin/syncd" --config "$demo/06913.toml" >> "$demo/06913.log" 2>&1 &
pids[1]=$!
sleep 4

for replica in hub 06913 06916; do
  say "register at $replica"
  sql -box "$demo/$replica.db" "SELECT id, commune_id, full_name, phone, state_management FROM persons ORDER BY id;"
done
say "the same phone was edited on both sides: recorded, settled by last-writer-wins"
sql -box "$demo/06913.db" "SELECT tbl, pk, col, rule, state, sides FROM _sync_conflicts;"
say "what was written at Quảng Tân, newest first (syncctl log)"
"$bin/syncctl" log --config "$demo/06913.toml" --limit 5
say "the conflict as the technician reads it (syncctl conflicts --all --lang vi)"
"$bin/syncctl" conflicts --all --lang vi --config "$demo/06913.toml"
say "syncctl status at Quảng Tân, in Vietnamese on the office's clock (TZ=Asia/Ho_Chi_Minh)"
TZ=Asia/Ho_Chi_Minh "$bin/syncctl" status --lang vi --config "$demo/06913.toml" || true
say "a line per sync round that sent or received something, in each daemon's log, e.g."
tail -n 2 "$demo/06913.log"
echo
echo "converged: $( [ "$(sql "$demo/hub.db" "SELECT * FROM persons WHERE commune_id='unit-06913' ORDER BY id")" = "$(sql "$demo/06913.db" "SELECT * FROM persons ORDER BY id")" ] && echo yes || echo NO)"
if [ "${DEMO_KEEP:-0}" = 1 ]; then
  trap - EXIT
  printf '#!/bin/sh\nkill %s 2>/dev/null; echo "demo stopped"\n' "${pids[*]}" > "$demo/stop.sh"
  chmod +x "$demo/stop.sh"
  cat <<EOF

The hub and both offices keep running (DEMO_KEEP=1). Try, as a technician would:
  $bin/syncctl status --config $demo/06913.toml            # add --lang vi, or LANG=vi_VN.UTF-8
  $bin/syncctl doctor --config $demo/06913.toml
  sqlite3 $demo/06913.db "UPDATE persons SET phone = '0900000000' WHERE id = 'p-qt-2'"
  $bin/syncctl sync --config $demo/06913.toml               # what the round sent and received
  $bin/syncctl log --today --config $demo/06913.toml
  $bin/syncctl conflicts --all --config $demo/06913.toml
  $bin/synchub offices --config $demo/hub.toml              # the district's view of its offices
Stop everything with: $demo/stop.sh
EOF
fi
