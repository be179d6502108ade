#!/usr/bin/env bash
# Fuzzes the hub's push decoder with libFuzzer: Tests/Fuzz/PushFuzz.swift feeds arbitrary bytes
# through PushBody.changes (gzip inflate with a limit, JSON decode of PushRequest, expanding
# and checking the compact change groups), starting from Tests/Fuzz/corpus/push. Any trap,
# sanitizer report or time-out fails the run, and libFuzzer writes the input that caused it
# as .build-fuzz/crash-* (or timeout-*, oom-*): fix the decoder, then add the input to
# Tests/Fuzz/corpus/push, where PushBodyTests replays it on every `swift test`.
#
# `-sanitize=fuzzer` must not reach the normal build, so this compiles SyncCore and
# SyncProtocol (with the CGzip shim over zlib) itself with swiftc into .build-fuzz.
# Usage: Deploy/fuzz-push.sh [SECONDS] (default 60).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
out="$root/.build-fuzz"
flags=(-sanitize=fuzzer,address -O -g -parse-as-library -swift-version 6 -I "$out" -I "$root/Sources/CGzip")
mkdir -p "$out" "$out/corpus"

echo "== building the push fuzzer in $out"
build_started=$(date +%s)
swiftc "${flags[@]}" -module-name SyncCore -wmo -emit-module -emit-module-path "$out/SyncCore.swiftmodule" \
  -c "$root"/Sources/SyncCore/*.swift -o "$out/SyncCore.o"
swiftc "${flags[@]}" -module-name SyncProtocol -wmo -emit-module -emit-module-path "$out/SyncProtocol.swiftmodule" \
  -c "$root"/Sources/SyncProtocol/*.swift -o "$out/SyncProtocol.o"
# gold warns once per ASan helper symbol it cannot export (about 140 lines, harmless): drop those.
swiftc "${flags[@]}" -module-name PushFuzz "$root/Tests/Fuzz/PushFuzz.swift" "$out/SyncCore.o" "$out/SyncProtocol.o" -lz \
  -o "$out/push-fuzz" 2> >(grep -v "Cannot export local symbol" >&2)
echo "built in $(( $(date +%s) - build_started )) s"

# New inputs the fuzzer finds go to .build-fuzz/corpus (not committed); the seeds stay as they are.
echo "== fuzzing for $seconds s"
"$out/push-fuzz" "$out/corpus" "$root/Tests/Fuzz/corpus/push" \
  -artifact_prefix="$out/" -dict="$root/Tests/Fuzz/push.dict" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
