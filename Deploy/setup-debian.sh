#!/usr/bin/env bash
# Installs what building and testing CommuneSync needs on a fresh Debian machine (as root):
# what building needs (Deploy/setup-build.sh: the C libraries, dpkg-dev), the sqlite3 shell, systemd (systemd-analyze), chromium (the review page
# tests, driven through chromium-driver), openssl and curl (the HTTPS and review-desk tests: a
# throw-away CA, headers as sent), debootstrap and systemd-container (Deploy/systemd-test.sh
# boots a container whose PID 1 is systemd), python3-venv (Tests/contract/run.sh installs
# Schemathesis into a venv), faketime (TrustBoundaryTests types rows as on a computer
# whose clock runs ahead), and postgresql (Deploy/postgres-test.sh starts a throw-away
# cluster for the hub's PostgreSQL store; the packaged cluster service is not used), and
# prometheus (its promtool checks Deploy/monitoring/; the packaged server is not used).
# The Swift toolchain itself is expected at /opt/swift or on PATH.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
bash "$(dirname "$0")/setup-build.sh"
apt-get install -y sqlite3 systemd chromium chromium-driver openssl curl debootstrap systemd-container python3-venv faketime postgresql prometheus
