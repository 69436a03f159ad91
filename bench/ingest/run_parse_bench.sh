#!/bin/sh
# run_parse_bench.sh BUILD_DIR [LINES] [FORMATS] — parse throughput against the text tools people
# reach for on the same file: `grep -c DROP` and an awk field split + count.
# Prints one table per format and the ratios parse/grep and parse/awk (1 parser thread and all).
set -eu
BUILD=${1:?usage: run_parse_bench.sh BUILD_DIR [LINES] [FORMATS]}
LINES=${2:-10000000}
FORMATS=${3:-"nsx iptables panos"}
BENCH="$BUILD/bench/ingest/bench_parse"
WORK=${BENCH_DIR:-/tmp}/ld-parse-bench.$$
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT INT TERM
AWK=$(command -v mawk || command -v awk)

secs() { # command... -> wall seconds of one run (hot cache: the caller ran it once before)
	# output to a file, not /dev/null: GNU grep stops at the first match when it sees /dev/null
	s=$(date +%s.%N)
	"$@" > "$WORK/tool.out"
	e=$(date +%s.%N)
	echo "$e - $s" | bc -l
}

echo "machine: $(nproc) CPUs, $(uname -m); lines per format: $LINES"
for F in $FORMATS; do
	FILE="$WORK/$F.log"
	"$BENCH" gen --format "$F" --lines "$LINES" --out "$FILE"
	BYTES=$(stat -c %s "$FILE")
	echo
	echo "== $F: $(echo "$BYTES / 1000000" | bc) MB"
	cat "$FILE" >/dev/null # hot cache for everybody
	case $F in
	nsx) WORD=DROP; COL=5 ;;
	iptables) WORD=DROP; COL=9 ;;
	*) WORD=deny; COL=1 ;;
	esac
	TG=$(secs grep -c -F "$WORD" "$FILE")
	TA=$(secs "$AWK" -v c="$COL" '{ n[$c]++ } END { for (k in n) t++; print t }' "$FILE")
	printf '| %-9s | %-16s | %7s | %11s | %8.2f | %12.2f | %9.1f | %14s | %7s |\n' "$F" "grep -c -F" 1 "$LINES" \
		"$TG" "$(echo "$LINES / $TG / 1000000" | bc -l)" "$(echo "$BYTES / $TG / 1000000" | bc -l)" - -
	printf '| %-9s | %-16s | %7s | %11s | %8.2f | %12.2f | %9.1f | %14s | %7s |\n' "$F" "$(basename "$AWK") split" 1 \
		"$LINES" "$TA" "$(echo "$LINES / $TA / 1000000" | bc -l)" "$(echo "$BYTES / $TA / 1000000" | bc -l)" - -
	OUT="$WORK/$F.out"
	"$BENCH" run --format "$F" --file "$FILE" --threads "1,$(nproc)" --store-dir "$WORK" > "$OUT"
	cat "$OUT"
	P1=$(awk -F'|' '$3 ~ /^ parse / && $4+0 == 1 { print $7 }' "$OUT")
	PN=$(awk -F'|' -v n="$(nproc)" '$3 ~ /^ parse / && $4+0 == n { print $7 }' "$OUT")
	G=$(echo "$LINES / $TG / 1000000" | bc -l)
	A=$(echo "$LINES / $TA / 1000000" | bc -l)
	printf 'ratio parse(1 thread)/grep = %.2f, parse(%s threads)/grep = %.2f, parse(1 thread)/awk = %.1f\n' \
		"$(echo "$P1 / $G" | bc -l)" "$(nproc)" "$(echo "$PN / $G" | bc -l)" "$(echo "$P1 / $A" | bc -l)"
	rm -f "$FILE"
done
