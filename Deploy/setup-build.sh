#!/usr/bin/env bash
# Installs what building CommuneSync and its Debian packages needs (as root): the C
# libraries' headers and dpkg-dev's tools. The Swift toolchain itself is expected at
# /opt/swift or on PATH. Tests need more: Deploy/setup-debian.sh.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y libsqlite3-dev libcurl4-openssl-dev zlib1g-dev dpkg-dev
