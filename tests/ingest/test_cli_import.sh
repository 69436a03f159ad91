#!/bin/sh
# test_cli_import.sh LOGDROP FIXTURES_DIR — `logdrop import` through the binary: summary counts,
# exit status 0 with malformed lines, 1 on an unreadable file (named on stderr), 2 on usage errors,
# .gz/.zst/stdin inputs, --format, dead-letter file.
set -u
LOGDROP=$1
FX=$2
T=$(mktemp -d /tmp/ld-cli-import.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

grep -h '^> ' "$FX/nsx.golden" "$FX/nsx_malformed.golden" | sed 's/^> //' > "$T/in.log"
LINES=$(wc -l < "$T/in.log")

"$LOGDROP" import --data "$T/d1" "$T/in.log" > "$T/out1" 2> "$T/err1"
rc=$?
[ $rc -eq 0 ] || { cat "$T/err1"; fail "exit $rc with malformed lines, expected 0"; }
grep -q "^lines read: *$LINES " "$T/out1" || { cat "$T/out1"; fail "line count"; }
# drops / not-drops / rejects as the golden expectations say
# outcome words of the plain ("> ") inputs, in order
awk '/^>x /{p=0;next} /^> /{p=1;next} /^= /{ if (p) print $2; p=0 }' \
	"$FX/nsx.golden" "$FX/nsx_malformed.golden" > "$T/want"
D=$(grep -c '^drop' "$T/want")
N=$(grep -c '^notdrop' "$T/want")
R=$(grep -c '^reject' "$T/want")
D=$((D + 1)); R=$((R - 1))
grep -q "^stored: *$D\$" "$T/out1" || { cat "$T/out1"; fail "stored, expected $D"; }
grep -q "^not a drop: *$N\$" "$T/out1" || { cat "$T/out1"; fail "not a drop, expected $N"; }
grep -q "^malformed: *$R " "$T/out1" || { cat "$T/out1"; fail "malformed, expected $R"; }
ls "$T/d1/deadletter/"rejects-*.log > /dev/null 2>&1 || fail "no dead-letter file"
[ "$(wc -l < "$T/d1/deadletter/rejects-1.log")" -eq "$R" ] || fail "dead-letter lines"

# compressed and stdin inputs give the same counts
gzip -c "$T/in.log" > "$T/in.log.gz"
if command -v zstd > /dev/null; then zstd -q -c "$T/in.log" > "$T/in.zst"; else cp "$T/in.log.gz" "$T/in.zst"; fi
"$LOGDROP" import --data "$T/d2" "$T/in.log.gz" "$T/in.zst" > "$T/out2" || fail "gz/zst import"
grep -q "^stored: *$((2 * D))\$" "$T/out2" || { cat "$T/out2"; fail "gz/zst stored"; }
"$LOGDROP" import --data "$T/d3" - < "$T/in.log" > "$T/out3" || fail "stdin import"
grep -q "^stored: *$D\$" "$T/out3" || { cat "$T/out3"; fail "stdin stored"; }

# --keep-allowed stores the pass records too
"$LOGDROP" import --data "$T/d4" --keep-allowed "$T/in.log" > "$T/out4" || fail "keep-allowed"
grep -q "^stored: *$((D + N))\$" "$T/out4" || { cat "$T/out4"; fail "keep-allowed stored"; }

# unreadable file: exit 1, named on stderr, other files still imported
"$LOGDROP" import --data "$T/d5" "$T/missing.log" "$T/in.log" > "$T/out5" 2> "$T/err5"
rc=$?
[ $rc -eq 1 ] || fail "missing file: exit $rc, expected 1"
grep -q "missing.log" "$T/err5" || fail "missing file not named"
grep -q "^stored: *$D\$" "$T/out5" || fail "other file not imported"

# usage errors
"$LOGDROP" import "$T/in.log" > /dev/null 2>&1; [ $? -eq 2 ] || fail "no --data: expected 2"
"$LOGDROP" import --data "$T/d6" > /dev/null 2>&1; [ $? -eq 2 ] || fail "no file: expected 2"
"$LOGDROP" import --data "$T/d6" --format bogus "$T/in.log" > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad format: expected 2"
"$LOGDROP" import --data "$T/d6" --bogus "$T/in.log" > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad option: expected 2"
"$LOGDROP" import --data "$T/d6" --tz Mars/Olympus "$T/in.log" > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad zone: expected 2"
"$LOGDROP" import --data "$T/d6" --year 19 "$T/in.log" > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad year: expected 2"
"$LOGDROP" import --help | grep -q "usage: logdrop import" || fail "--help"
# --tz with a real zone (when the system has the zone database) and --year are accepted
if [ -e "${TZDIR:-/usr/share/zoneinfo}/Europe/Berlin" ]; then
	"$LOGDROP" import --data "$T/d8" --tz Europe/Berlin --year 2025 --threads 1 "$T/in.log" > /dev/null ||
		fail "--tz/--year"
fi

# --format iptables: NSX lines are not netfilter lines
"$LOGDROP" import --data "$T/d7" --format iptables "$T/in.log" > "$T/out7" || fail "forced format"
grep -q "^stored: *1\$" "$T/out7" || { cat "$T/out7"; fail "forced iptables stored"; }
echo "ok"
