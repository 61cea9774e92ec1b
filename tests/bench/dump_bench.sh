#!/bin/bash
# memlens dump against gdb's gcore, side by side in one run: wall time, target stop time,
# output size, and the target's page-table growth, on three targets:
#   heap1g   a 1 GiB mapping filled with heap-like data (every page written)
#   thp1g    the same in transparent huge pages (MADV_HUGEPAGE; not in the default set)
#   sparse4g a 4 GiB mapping with 64 touched pages
#   python   a python3 process holding a large heap of dicts and strings
#   heap8g   an 8 GiB mapping of heap-like data, 4 threads (not in the default set: it needs
#            about 17 GiB of free memory and disk for gcore's core; ROUNDS8, default 1)
# Usage: tests/bench/dump_bench.sh BUILD_DIR [OUTDIR]   (run as root; takes about a minute)
# Environment: ROUNDS (default 3) captures per target; DUMP_ARGS extra options for memlens dump
# (e.g. "--format=elf" or "--codec=zstd"); TARGETS (default "heap1g sparse4g python");
# FREEZES (default "cow ptrace") the --freeze modes memlens runs with, one after the other;
# MODE/WHEN adds --compress=WHEN (e.g. "ptrace ptrace/always ptrace/never").
set -eu
B=$(cd "${1:?build dir}" && pwd)
OUT=${2:-/tmp/ml-dump-bench}
M=$B/tools/memlens
H=$B/tests/helpers
mkdir -p "$OUT"
rm -f "$OUT"/*
ROUNDS=${ROUNDS:-3}
DUMP_ARGS=${DUMP_ARGS:-}
TARGETS=${TARGETS:-heap1g sparse4g python}
FREEZES=${FREEZES:-cow ptrace}
want() { case " $TARGETS " in *" $1 "*) return 0;; esac; return 1; }

# Samples /proc/PID/task/*/stat every 0.2 ms and prints how long any thread was stopped
# ('t' or 'T'), i.e. the stop time the target really saw, measured the same way for both tools:
# the sum of the intervals between consecutive samples that both saw a stop (a cow dump stops
# the target twice, for the fork and for reaping the copy: the time between is not a stop).
# It creates $3 once it is sampling, and the tool is started only then.
monitor() {
	python3 - "$1" "$2" "$3" <<'PY'
import os, sys, time
pid, stopfile, readyfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
total, prev = 0.0, None
while not os.path.exists(stopfile):
    now = time.monotonic()
    stopped = False
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                s = f.read()
            if s[s.rindex(')') + 2] in "tT":
                stopped = True
                break
    except OSError:
        pass
    if stopped and prev is not None:
        total += now - prev
    prev = now if stopped else None
    if readyfile:
        open(readyfile, "w").close()
        readyfile = None
    time.sleep(0.0002)
print("%.1f" % (total * 1000))
PY
}

pte() { awk '/^VmPTE/{print $2}' "/proc/$1/status"; }
rss() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
ms() { python3 -c "import sys; print('%.1f' % ((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" "$1" "$2"; }
now() { date +%s.%N; }

# run_one TOOL PID LABEL: one capture, prints a result line
run_one() {
	local tool=$1 pid=$2 label=$3 stopf=$OUT/.stop.$$ out mon t0 t1 wall stop pte0 pte1 rss0 rss1 size disk freeze="" comp=""
	case $tool in memlens:*) freeze=${tool#memlens:}; tool=memlens;; esac
	case $freeze in */*) comp=${freeze#*/}; freeze=${freeze%%/*};; esac
	rm -f "$stopf" "$stopf.ready"
	monitor "$pid" "$stopf" "$stopf.ready" >"$OUT/.mon" &
	mon=$!
	while [ ! -e "$stopf.ready" ]; do sleep 0.01; done
	pte0=$(pte "$pid"); rss0=$(rss "$pid")
	t0=$(now)
	if [ "$tool" = memlens ]; then
		out=$OUT/$label.mlcore
		# shellcheck disable=SC2086
		/usr/bin/time -f '%U %S %M' -o "$OUT/.time" "$M" dump "$pid" -o "$out" --force --json \
			${freeze:+--freeze=$freeze} ${comp:+--compress=$comp} $DUMP_ARGS >"$OUT/.json" 2>/dev/null
	else
		out=$OUT/$label.gcore
		gcore -o "$OUT/$label.gcore" "$pid" >/dev/null 2>&1
		mv "$OUT/$label.gcore.$pid" "$out"
	fi
	t1=$(now)
	# memlens fsyncs its output before publishing it; gcore does not: time gcore's file
	# made durable too (sync FILE = fsync), for the like-for-like figure
	local durable=""
	[ "$tool" = memlens ] || { sync "$out"; durable="(+fsync $(ms "$t0" "$(now)") ms)"; }
	touch "$stopf"; wait $mon; rm -f "$stopf" "$stopf.ready"
	stop=$(cat "$OUT/.mon")
	pte1=$(pte "$pid"); rss1=$(rss "$pid")
	size=$(stat -c %s "$out"); disk=$(( $(stat -c %b "$out") * 512 ))
	local self="" cpu="" peak="" raw=""
	if [ "$tool" = memlens ]; then
		self=$(python3 -c "import json; d = json.load(open('$OUT/.json')); print('%.1f %s/%s' % (d['stop_ns'] / 1e6, d['freeze'], d.get('compress', '-')))")
		raw=$(python3 -c "import json; d = json.load(open('$OUT/.json')); print('%d of %d chunks raw, %d to keep up' % (d.get('raw_chunks', 0), d.get('chunks', 0), d.get('raw_to_keep_up', 0)))")
		cpu=$(awk '{printf "%.0f", ($1 + $2) * 1000}' "$OUT/.time")
		peak=$(awk '{printf "%.0f", $3 / 1024}' "$OUT/.time")
		tool="memlens:${self#* }"
		self=${self% *}
	fi
	printf "%-9s %-21s wall %8s ms %s%s stopped %8s ms %s size %12s  on-disk %12s  VmPTE +%s kB  VmRSS +%s kB%s%s\n" \
		"$label" "$tool" "$(ms "$t0" "$t1")" "${cpu:+(cpu $cpu ms)}" "$durable" "$stop" "${self:+(self-reported $self ms)}" "$size" "$disk" \
		$((pte1 - pte0)) $((rss1 - rss0)) "${peak:+  memlens peak RSS $peak MiB}" "${raw:+  ($raw)}"

	rm -f "$out"
}

start_child() {
	coproc CH { exec "$H/ml_dumpee"; }
	read -r l <&"${CH[0]}"
	CPID=${l#*pid=}
}
cmd() { echo "$*" >&"${CH[1]}"; read -r REPLY <&"${CH[0]}"; }
# The kernel's own cost of copying the target's address space (fork() in the target, timed
# there), the floor under any --freeze=cow stop: three samples.
forktime() {
	local s="" i
	for i in 1 2 3; do cmd forktime; s="$s $(awk -v u="${REPLY#*us=}" 'BEGIN{printf "%.1f", u / 1000}')"; done
	printf "%-9s fork() in the target itself:%s ms\n" "$1" "$s"
}
stop_child() { echo "exit 0" >&"${CH[1]}"; wait "$CPID" 2>/dev/null || true; }

echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores; machine shared with other work"
echo "# memlens $("$M" --version | cut -d' ' -f2)${DUMP_ARGS:+ ($DUMP_ARGS)}, $(gdb --version | head -1); load: $(cut -d' ' -f1-3 /proc/loadavg)"

# heap_target LABEL SIZE [thp]: a SIZE mapping of heap-like words and 3 more threads, dumped
# ROUNDS times (ROUNDS8 for heap8g) with each freeze and with gcore.
heap_target() {
	want "$1" || return 0
	start_child
	cmd map_fill "$2" ${3:-}
	cmd threads 3
	[ -z "${3:-}" ] || echo "# $1: $(awk '/AnonHugePages/{print $2 " kB"}' "/proc/$CPID/smaps_rollup") of it in huge pages"
	forktime "$1"
	local rounds=$ROUNDS r f
	[ "$1" != heap8g ] || rounds=${ROUNDS8:-1}
	for r in $(seq "$rounds"); do
		for f in $FREEZES; do run_one "memlens:$f" "$CPID" "$1"; done
		run_one gcore "$CPID" "$1"
	done
	stop_child
}
heap_target heap1g 0x40000000
heap_target thp1g 0x40000000 thp
heap_target heap8g 0x200000000

if want sparse4g; then
start_child
cmd map_touch 0x100000000 0x4000000
for r in $(seq "$ROUNDS"); do for f in $FREEZES; do run_one "memlens:$f" "$CPID" sparse4g; done; done
run_one gcore "$CPID" sparse4g
stop_child
fi

want python || { echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"; exit 0; }

coproc PY { exec python3 -c '
import sys
data = [{"id": i, "name": "user-%d" % i, "tags": ["a%d" % (i % 97), "b"], "score": i * 0.5} for i in range(600000)]
blob = ["x" * (i % 200) + str(i) for i in range(300000)]
print("ready", flush=True)
sys.stdin.readline()
'; }
read -r l <&"${PY[0]}"
PPID_=$PY_PID
for r in $(seq "$ROUNDS"); do run_one memlens "$PPID_" python; done
run_one gcore "$PPID_" python
echo >&"${PY[1]}"
wait "$PPID_" 2>/dev/null || true
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
