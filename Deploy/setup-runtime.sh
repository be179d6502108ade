#!/usr/bin/env bash
# Installs what CommuneSync's programs need to run (as root), and nothing else: for an office
# PC or a hub that gets programs already built (Deploy/install.sh --binaries DIR). The Debian
# packages (Deploy/package.sh) need not this script: apt installs what they depend on.
# Building needs Deploy/setup-build.sh; building and testing, Deploy/setup-debian.sh.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
# The C libraries syncd, synchub and syncctl link against, the CA bundle for an https hub,
# and the sqlite3 shell, with which the office's own programs and staff write the register.
apt-get install -y libsqlite3-0 libcurl4 zlib1g ca-certificates sqlite3
