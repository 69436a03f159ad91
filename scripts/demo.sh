#!/usr/bin/env bash
# Fresh Debian 12, as root: install, build, then run the demo — a generated VDI estate with one
# infected desktop is ingested into a store and the suspects are ranked.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build cli/logdrop >/dev/null
exec ./build/cli/logdrop demo "$@"
