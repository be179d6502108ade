#!/usr/bin/env bash
# Quick start on a fresh Debian machine (as root): install what is needed, build, and run the
# demo end to end (a hub and two communes exchanging real records on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Deploy/setup-debian.sh
swift build
bash Deploy/demo/run.sh
