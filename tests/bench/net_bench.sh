#!/bin/bash
# Reading the TCP table of a process with many sockets: libmemlens (parsed records) against
# the raw file read alone (the kernel's share), psutil's net_connections() and `ss -tan`,
# all on the same network namespace (a private one, so only the holder's sockets count).
# Usage: tests/bench/net_bench.sh BUILD_DIR [SOCKETS...]   (default 1000 10000; needs root)
set -eu
B=$(cd "${1:?usage: net_bench.sh BUILD_DIR [SOCKETS...]}" && pwd); shift
COUNTS=${*:-1000 10000}
HERE=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-21}
TMP=$(mktemp -d)
trap 'kill ${HP:-} 2>/dev/null; rm -rf "$TMP"' EXIT
cc -O2 -I"$HERE/../../include" -o "$TMP/net_bench" "$HERE/net_bench.c" "$B/lib/libmemlens.a" $(pkg-config --libs libelf zlib liblz4 libzstd) -pthread

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf "| TCP sockets | memlens parse, ms | raw read only, ms | psutil net_connections('tcp4'), ms | ss -tan (incl. exec), ms | psutil / memlens | ss / memlens |\n"
printf "|---|---|---|---|---|---|---|\n"
for N in $COUNTS; do
	# the holder: N/2 listeners and N/4 connected pairs on 127.0.0.1 in a fresh netns
	coproc H { exec unshare -n sh -c 'ip link set lo up; ulimit -n $(ulimit -Hn) 2>/dev/null; exec /usr/bin/python3 -c "
import socket, sys
n = int(sys.argv[1]); keep = []
for i in range(n // 2):
    s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(1); keep.append(s)
for i in range(n // 4):
    c = socket.create_connection(keep[i].getsockname()); a, _ = keep[i].accept(); keep += [c, a]
print(\"ready\", flush=True); sys.stdin.read()
" '"$N"; }
	HP=$H_PID
	read -r ready <&"${H[0]}"
	read -r ML CNT < <("$TMP/net_bench" parse "$HP" "$REPS")
	read -r RAW _ < <("$TMP/net_bench" raw "$HP" "$REPS")
	PS=$(nsenter -t "$HP" -n /usr/bin/python3 -c "
import psutil, time
t = []
for i in range($REPS):
    t0 = time.perf_counter(); c = psutil.net_connections('tcp4'); t.append((time.perf_counter() - t0) * 1e3)
t.sort(); print('%.2f' % t[len(t) // 2])")
	for i in $(seq "$REPS"); do
		t0=$(date +%s%N); nsenter -t "$HP" -n ss -tan >/dev/null; t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done >"$TMP/ss"
	SS=$(median <"$TMP/ss" | awk '{ printf "%.2f", $1 / 1000 }')
	printf "| %s (%s rows) | %s | %s | %s | %s | %.1f | %.1f |\n" "$N" "$CNT" "$ML" "$RAW" "$PS" "$SS" \
		"$(awk -v a="$PS" -v b="$ML" 'BEGIN { print a / b }')" "$(awk -v a="$SS" -v b="$ML" 'BEGIN { print a / b }')"
	kill "$HP"; wait "$HP" 2>/dev/null || true
done
