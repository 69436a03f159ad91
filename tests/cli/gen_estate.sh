#!/usr/bin/env bash
# Writes a small, fully deterministic VDI estate as NSX DFW syslog lines, for the end-to-end tests.
#   desktops 10.10.1.10-70 (VDI-010..VDI-070), file server 10.10.2.5, authorised scanner 10.10.9.9
#   - every desktop: NetBIOS broadcast (137) and LLMNR multicast (5355) every 10 min   -> noise
#   - VDI-020: a stale mapped drive retries the file server on 445 every 5 min        -> benign
#   - the scanner sweeps every desktop on 5 ports at 02:00                             -> never alerted
#   - VDI-050 is infected at 09:00:00 and probes 10.10.1.10-49 on 445, one every 0.5 s,
#     then the same hosts on 3389                                                      -> the alert
# Usage: gen_estate.sh OUTDIR   (writes OUTDIR/estate.log, OUTDIR/inventory.csv, OUTDIR/counts)
set -euo pipefail
out=$1
mkdir -p "$out"
log=$out/estate.log
: >"$log"
drops=0
{
	echo "ip,name,user,pool,role,valid_from,valid_to"
	for i in $(seq 10 70); do printf '10.10.1.%d,VDI-%03d,user%03d,pool-a,desktop,,\n' "$i" "$i" "$i"; done
	echo "10.10.2.5,FS01,,servers,server,,"
	echo "10.10.9.9,NESSUS01,,scanners,scanner,,"
} >"$out/inventory.csv"

line() { # time vif action dir proto src sport dst dport
	local flags=""
	[ "$5" = TCP ] && flags=" S"
	printf '<14>1 2026-11-02T%sZ esx%02d.vdi.example FIREWALL-PKTLOG - - - %s INET match %s 5100 %s 60 %s %s/%s->%s/%s%s\n' \
		"$1" $((RANDOM_HOST % 4 + 1)) "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "$flags" >>"$log"
	[ "$3" = DROP ] && drops=$((drops + 1))
	return 0
}
RANDOM_HOST=0
# noise: 00:00-12:00, every 10 minutes
for h in $(seq 0 11); do
	for m in 0 10 20 30 40 50; do
		for i in $(seq 10 70); do
			RANDOM_HOST=$i
			ts=$(printf '%02d:%02d:%02d.%03d' "$h" "$m" $((i % 60)) "$i")
			line "$ts" "$(printf '%08x' $((0x1000 + i)))" DROP OUT UDP "10.10.1.$i" 137 10.10.1.255 137
			line "$ts" "$(printf '%08x' $((0x1000 + i)))" DROP OUT UDP "10.10.1.$i" $((50000 + i)) 224.0.0.252 5355
		done
	done
done
# stale mapped drive: VDI-020 -> FS01:445 every 5 minutes
for h in $(seq 0 11); do
	for m in $(seq 0 5 55); do
		RANDOM_HOST=2
		line "$(printf '%02d:%02d:07.000' "$h" "$m")" 00001014 DROP OUT TCP 10.10.1.20 $((49152 + h * 60 + m)) 10.10.2.5 445
	done
done
# authorised scanner at 02:00
sec=0
for port in 22 135 445 3389 5985; do
	for i in $(seq 10 70); do
		RANDOM_HOST=3
		line "$(printf '02:%02d:%02d.%03d' $((sec / 60)) $((sec % 60)) "$i")" 00009999 DROP IN TCP 10.10.9.9 40000 "10.10.1.$i" "$port"
	done
	sec=$((sec + 7))
done
# a few allowed lines (not drops)
for i in $(seq 10 14); do
	RANDOM_HOST=1
	line "03:00:0$((i - 10)).000" 0000aaaa PASS OUT TCP "10.10.1.$i" 50000 10.10.2.5 445
done
# the worm on VDI-050
t=$((9 * 3600 * 1000))
for port in 445 3389; do
	for i in $(seq 10 49); do
		RANDOM_HOST=0
		ms=$t
		line "$(printf '%02d:%02d:%02d.%03d' $((ms / 3600000)) $((ms / 60000 % 60)) $((ms / 1000 % 60)) $((ms % 1000)))" 00001032 DROP OUT TCP 10.10.1.50 $((60000 + i)) "10.10.1.$i" "$port"
		t=$((t + 500))
	done
done
echo "drops=$drops" >"$out/counts"
echo "worm_first=2026-11-02T09:00:00.000Z" >>"$out/counts"
