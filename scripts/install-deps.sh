#!/usr/bin/env bash
# Installs every Debian 12 package logdrop needs to build, test, fuzz and benchmark (run as root).
set -euo pipefail
packages=(
	build-essential meson ninja-build pkg-config python3
	libpcap-dev libhyperscan-dev libzstd-dev libck-dev libjemalloc-dev libcmocka-dev
	libsodium-dev zlib1g-dev
	clang libclang-rt-14-dev           # libFuzzer targets and sanitizer runtime
	zstd gzip gawk mawk bc nfdump      # test inputs and benchmark peers
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
