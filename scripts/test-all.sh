#!/usr/bin/env bash
# Fresh Debian 12, as root: install, build the release and the ASan/UBSan configurations, run the
# whole test suite in both, then run every libFuzzer target (clang) for FUZZ_SECONDS each.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
passed=0
failed=0
note() { printf '\n=== %s ===\n' "$*"; }

run_suite() { # name builddir meson-setup-args...
	local name=$1 dir=$2
	shift 2
	note "$name: build"
	if [ ! -d "$dir" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; failed=$((failed + 1)); return; }
	fi
	if ! ninja -C "$dir"; then
		failed=$((failed + 1))
		return
	fi
	note "$name: tests"
	meson test -C "$dir" --print-errorlogs --num-processes 2 -t 3
	local json="$dir/meson-logs/testlog.json"
	local p f
	p=$(grep -c '"result": "OK"' "$json" || true)
	f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$json" || true)
	passed=$((passed + p))
	failed=$((failed + f))
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite release build-ci-release --buildtype=release
run_suite asan-ubsan build-ci-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

note "fuzz: build (clang, libFuzzer, ASan/UBSan)"
if [ ! -d build-ci-fuzz ]; then
	CC=clang meson setup build-ci-fuzz --buildtype=debug -Dfuzz=true -Dtests=true \
		-Db_sanitize=address,undefined -Db_lundef=false >build-ci-fuzz.setup.log 2>&1 ||
		{ cat build-ci-fuzz.setup.log; failed=$((failed + 1)); }
fi
mapfile -t fuzzers < <(meson introspect --targets build-ci-fuzz 2>/dev/null |
	python3 -c 'import json,sys; [print(t["name"]) for t in json.load(sys.stdin) if t["type"]=="executable" and t["name"].startswith("fuzz_")]')
fuzz_one() {
	local name=$1 bin corpus
	bin=$(find build-ci-fuzz -type f -name "$name" -perm -u+x | head -1)
	[ -n "$bin" ] || { echo "fuzz: $name: binary missing"; return 1; }
	corpus=$(mktemp -d)
	# seed corpora: the directories the release build replays through the same executable
	local seeds
	while IFS= read -r seeds; do
		[ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/ 2>/dev/null
	done < <(meson introspect --tests build-ci-release 2>/dev/null | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if os.path.basename(t["cmd"][0]) == sys.argv[1]:
        for a in t["cmd"][1:]:
            if os.path.isdir(a):
                print(a)' "$name")
	if "$bin" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 "$corpus" >"build-ci-fuzz/$name.log" 2>&1; then
		echo "fuzz: $name: ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "build-ci-fuzz/$name.log" | grep -o '[0-9]*$') runs in ${FUZZ_SECONDS}s, $(find "$corpus" -type f | wc -l) inputs in corpus)"
		rm -rf "$corpus"
		return 0
	fi
	echo "fuzz: $name: FAILED"
	tail -40 "build-ci-fuzz/$name.log"
	rm -rf "$corpus"
	return 1
}
if [ "${#fuzzers[@]}" -gt 0 ]; then
	ninja -C build-ci-fuzz >/dev/null || { ninja -C build-ci-fuzz | tail -30; failed=$((failed + 1)); }
	note "fuzz: ${#fuzzers[@]} targets, ${FUZZ_SECONDS}s each, 2 at a time"
	pids=()
	for f in "${fuzzers[@]}"; do
		fuzz_one "$f" >"build-ci-fuzz/$f.result" 2>&1 &
		pids+=($!)
		if [ "${#pids[@]}" -ge 2 ]; then
			wait "${pids[0]}" && passed=$((passed + 1)) || failed=$((failed + 1))
			pids=("${pids[@]:1}")
		fi
	done
	for p in "${pids[@]}"; do wait "$p" && passed=$((passed + 1)) || failed=$((failed + 1)); done
	cat build-ci-fuzz/*.result
fi

echo
echo "logdrop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
