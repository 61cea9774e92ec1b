#!/usr/bin/env bash
# memlens maps: totals against pmap -X and psutil, filters, sorting, JSON, rollup, exit codes.
set -uo pipefail
. "$ML_SOURCE_DIR/tests/support/cli.sh"
: "${MEMLENS:?}" "${ML_HELPERS:?}"
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
cleanup() {
  [ -n "${M_PID:-}" ] && kill "$M_PID" 2>/dev/null
  [ -n "${Z_HOLDER:-}" ] && kill "$Z_HOLDER" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- usage ---
"$MEMLENS" maps --help >"$tmp/help" || fail "--help exit $?"
grep -q -- "--sort" "$tmp/help" || fail "--help lacks --sort"
"$MEMLENS" maps --sort bogus 1 2>"$tmp/err"; rc=$?
[ $rc -eq 64 ] || fail "bad --sort exit $rc"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "usage error is not one line: $(cat "$tmp/err")"
"$MEMLENS" maps 2>/dev/null; [ $? -eq 64 ] || fail "missing argument must exit 64"
"$MEMLENS" maps --kind nosuch 1 2>/dev/null; [ $? -eq 64 ] || fail "bad --kind must exit 64"
"$MEMLENS" maps --addr 5-1 1 2>/dev/null; [ $? -eq 64 ] || fail "bad --addr must exit 64"

# --- no such process (above pid_max) and a missing snapshot ---
"$MEMLENS" maps 1073741808 >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "no such process exit $rc"
grep -q "pid 1073741808" "$tmp/err" && grep -qi "no such process" "$tmp/err" || fail "unclear error: $(cat "$tmp/err")"
"$MEMLENS" maps "$tmp/no-such-snapshot" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "missing snapshot exit $rc"
grep -q "no-such-snapshot" "$tmp/err" || fail "missing snapshot error does not name the file"

# --- a child with known mappings ---
coproc M { exec "$ML_HELPERS/ml_mapper"; }
M_PID=$M_PID
cmd() { echo "$*" >&"${M[1]}"; read -r ans <&"${M[0]}"; case $ans in ok*) ;; *) fail "child: $* -> $ans";; esac; }
read -r ready <&"${M[0]}"
pid=${ready#*pid=}
cmd map 0x800000 rw; anon=$(sed 's/.*addr=0x//' <<<"$ans")
cmd touch 0x$anon 0x300000 4096
cmd shmanon 0x100000
cmd memfd mlbuf 0x40000; memfd=$(sed 's/.*addr=0x//' <<<"$ans")
hexname=$(printf 'odd\nname ' | od -An -tx1 | tr -d ' \n')
cmd mapfile "$tmp" "$hexname" 8192
# a name with a literal backslash-012 reads like a newline in smaps: the table takes the
# exact bytes (from the maps reader, through map_files/), never the decoded guess
litname=$(printf 'lit\\012x' | od -An -tx1 | tr -d ' \n')
cmd mapfile "$tmp" "$litname" 4096; lit=$(sed 's/.*addr=0x\([0-9a-f]*\).*/\1/' <<<"$ans")
"$MEMLENS" maps "$pid" --addr "$lit-$(printf %x $((0x$lit + 1)))" >"$tmp/lit" || fail "maps --addr (lit) exit $?"
grep -q '/lit\\\\012x$' "$tmp/lit" || fail "literal \\012 in a name: $(cat "$tmp/lit")"
cmd unmap "0x$lit" 4096 # not part of the snapshot comparison below

# the 8 MiB region: exact size and resident bytes, in bytes when not on a terminal
line=$("$MEMLENS" maps "$pid" --addr "$anon-$(printf %x $((0x$anon + 1)))") || fail "maps --addr exit $?"
row=$(grep "^$anon-" <<<"$line") || fail "no row for $anon: $line"
read -r _ perm _ _ _ size rss pss dirty swap _ <<<"$row"
[ "$perm" = rw-p ] && [ "$size" = 8388608 ] && [ "$rss" = 3145728 ] && [ "$pss" = 3145728 ] \
  && [ "$dirty" = 3145728 ] && [ "$swap" = 0 ] || fail "anon row wrong: $row"
[ "$(grep -c '^[0-9a-f]\+-' <<<"$line")" -eq 1 ] && grep -q '^total .* 1 mapping$' <<<"$line" || fail "expected one row and a totals row: $line"

# totals equal pmap -X's. Size, Rss, dirty (pmap -XX) and Swap must match exactly. Pss
# must too, but the Pss of shared libraries and the vDSO moves whenever any process on
# the machine maps or unmaps them, so after five tries the Pss check is restricted to the
# mappings nobody else shares (everything but system libraries and [vdso]).
ok=0
for try in 1 2 3 4 5; do
  "$MEMLENS" maps "$pid" --json >"$tmp/mj" || fail "maps --json exit $?"
  "$MEMLENS" maps "$pid" >"$tmp/ml" || fail "maps exit $?"
  pmap -X "$pid" >"$tmp/pmap" && pmap -XX "$pid" >"$tmp/pmapxx" || fail "pmap failed"
  res=$($PY - "$tmp/mj" "$tmp/pmap" "$tmp/pmapxx" "$tmp/ml" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().splitlines()
hdr = lines[1].split()
col = {k: i for i, k in enumerate(hdr)}
nnum = col["Mapping"]  # columns before the name
rows, total = [], None
for ln in lines[2:]:
    if ln.strip().startswith("===="):
        continue
    t = ln.split()
    if not t:
        continue
    if t[-1] == "KB":  # totals row: numbers from Size on
        total = {k: int(t[col[k] - 5]) * 1024 for k in ("Size", "Rss", "Pss", "Swap")}
        continue
    name = ln.split(None, nnum)[nnum] if len(t) > nnum else ""
    rows.append((int(t[0], 16), {k: int(t[col[k]]) * 1024 for k in ("Size", "Rss", "Pss", "Swap")}, name))
xx = open(sys.argv[3]).read().splitlines()
xh = xx[1].split()
xt = xx[-1].split()
dirty = (int(xt[xh.index("Shared_Dirty") - 5]) + int(xt[xh.index("Private_Dirty") - 5])) * 1024
tot = d["totals"]
mine = (tot["size"], tot["rss"], tot["shared_dirty"] + tot["private_dirty"], tot["swap"])
theirs = (total["Size"], total["Rss"], dirty, total["Swap"])
# the table's totals row is the JSON's
tab = [l.split() for l in open(sys.argv[4]) if l.startswith("total ")][0]
assert int(tab[1]) == tot["size"] and int(tab[5]) == tot["swap"] and int(tab[6]) == len(d["mappings"]), tab
if mine != theirs:
    print("hard", mine, theirs); sys.exit(0)
if tot["pss"] == total["Pss"]:
    print("exact"); sys.exit(0)
def volatile(name, kind):
    return kind == "vdso" or name.startswith(("/usr/lib", "/lib"))
by = {int(m["start"], 16): m for m in d["mappings"]}
a = sum(m["pss"] for m in d["mappings"] if not volatile(m["name"], m["kind"]))
# pmap shows only base names: classify its rows by our record at the same address
b = sum(r["Pss"] for s, r, n in rows if s not in by or not volatile(by[s]["name"], by[s]["kind"]))
print("private" if a == b else "pss %d %d" % (a, b))
PY
) || fail "pmap comparison script"
  case $res in
    exact) ok=1; break ;;
    private) ok=2 ;;
    *) echo "attempt $try: $res" ;;
  esac
done
[ $ok = 0 ] && fail "totals differ from pmap -X"
[ $ok = 2 ] && echo "Pss compared over the unshared mappings (shared-library Pss moved between the reads)"

# totals equal psutil memory_maps()'s
if $PY -c 'import psutil' 2>/dev/null; then
  ok=0
  for try in 1 2 3 4 5; do
    "$MEMLENS" maps "$pid" --json >"$tmp/json" || fail "--json exit $?"
    mine=$($PY -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["size"], t["rss"], t["private_dirty"], t["swap"], t["anonymous"])' "$tmp/json")
    theirs=$($PY -c '
import psutil, sys
m = psutil.Process(int(sys.argv[1])).memory_maps(grouped=False)
print(sum(x.size for x in m), sum(x.rss for x in m), sum(x.private_dirty for x in m), sum(x.swap for x in m), sum(x.anonymous for x in m))' "$pid")
    if [ "$mine" = "$theirs" ]; then ok=1; break; fi
    echo "attempt $try: memlens '$mine' vs psutil '$theirs'"
  done
  [ $ok = 1 ] || fail "totals differ from psutil memory_maps()"
else
  ml_not_run "python3-psutil not installed, psutil comparison not run"
fi

# JSON: schema, exact odd name, kinds, rows equal the table's
$PY - "$tmp/json" "$tmp" <<'PY' || fail "JSON checks"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "memlens.maps/1", d["schema"]
names = [m["name"] for m in d["mappings"]]
assert sys.argv[2] + "/odd\nname " in names, names
kinds = {m["kind"] for m in d["mappings"]}
assert {"file", "anon", "stack", "shmem", "memfd", "vdso"} <= kinds, kinds
for m in d["mappings"]:
    assert m["start"].startswith("0x") and int(m["end"], 16) > int(m["start"], 16)
    assert m["size"] == int(m["end"], 16) - int(m["start"], 16)
assert d["totals"]["mappings"] == len(d["mappings"])
PY
# the table escapes the newline instead of breaking the row
grep -qF "$tmp/odd\\nname " "$tmp/ml" || fail "odd name not escaped in the table"

# filters
"$MEMLENS" maps "$pid" --kind memfd >"$tmp/f" || fail "--kind exit $?"
[ "$(grep -c '^[0-9a-f]\+-' "$tmp/f")" -eq 1 ] && grep -q "^$memfd-.*/memfd:mlbuf (deleted)$" "$tmp/f" || fail "--kind memfd: $(cat "$tmp/f")"
"$MEMLENS" maps "$pid" --perm xp >"$tmp/f" || fail "--perm exit $?"
awk '/^[0-9a-f]+-/ && $2 !~ /^..xp$/ {bad=1} END {exit bad}' "$tmp/f" || fail "--perm xp shows other rows"
"$MEMLENS" maps "$pid" --name '*ml_mapper' >"$tmp/f" || fail "--name exit $?"
[ "$(grep -c '^[0-9a-f]\+-' "$tmp/f")" -ge 2 ] || fail "--name matched too little"
awk '/^[0-9a-f]+-/ && $NF !~ /ml_mapper$/ {bad=1} END {exit bad}' "$tmp/f" || fail "--name shows other rows"
"$MEMLENS" maps "$pid" --name 'no-such-*' >/dev/null; [ $? -eq 1 ] || fail "a filter matching nothing must exit 1"

# --sort rss: non-increasing Rss column, led by the largest Rss of the whole listing (the
# touched region, unless a sanitizer's own regions are larger: compared with listings
# taken just before and after, when those agree)
stable=
for try in 1 2 3 4 5; do
  "$MEMLENS" maps "$pid" >"$tmp/all" || fail "maps exit $?"
  "$MEMLENS" maps "$pid" --sort rss >"$tmp/f" || fail "--sort exit $?"
  "$MEMLENS" maps "$pid" >"$tmp/all2" || fail "maps exit $?"
  [ "$(ml_rows_rss "$tmp/all")" = "$(ml_rows_rss "$tmp/all2")" ] || continue
  awk '/^[0-9a-f]+-/ { if (NR > 2 && $7 > prev) bad=1; prev=$7 } END {exit bad}' "$tmp/f" || fail "--sort rss not ordered"
  [ "$(awk '/^[0-9a-f]+-/ {print $7; exit}' "$tmp/f")" = "$(awk '/^[0-9a-f]+-/ {print $7}' "$tmp/all" | sort -n | tail -n 1)" ] ||
    fail "the first row is not the largest Rss"
  [ "$(awk '/^[0-9a-f]+-/ {print $1}' "$tmp/f" | sort)" = "$(awk '/^[0-9a-f]+-/ {print $1}' "$tmp/all" | sort)" ] ||
    fail "--sort rss lost or added rows"
  stable=1; break
done
[ -n "$stable" ] || fail "the child's mappings changed between every two listings of 5 tries"
grep -q "^$anon-$(printf %x $((0x$anon + 0x800000))) " "$tmp/f" || fail "the touched region is not in the sorted listing"

# -x has every documented field plus VmFlags
"$MEMLENS" maps "$pid" -x >"$tmp/x" || fail "-x exit $?"
for f in KernelPageSize Pss_Dirty Referenced Anonymous AnonHugePages Swap SwapPss Locked THP VmFlags; do
  head -1 "$tmp/x" | grep -qw "$f" || fail "-x lacks $f"
done

# --rollup equals the kernel's smaps_rollup
"$MEMLENS" maps "$pid" --rollup >"$tmp/r" || fail "--rollup exit $?"
k=$(awk '$1=="Rss:" {print $2*1024}' "/proc/$pid/smaps_rollup")
m=$(awk '$1=="Rss" {print $2}' "$tmp/r")
[ "$k" = "$m" ] || fail "--rollup Rss $m vs kernel $k"
"$MEMLENS" maps "$pid" --rollup --json | $PY -c 'import json,sys; d=json.load(sys.stdin); r=d["rollup"]; assert r["uss"] == r["private_clean"] + r["private_dirty"] + r["private_hugetlb"]' \
  || fail "--rollup --json"

# human sizes on a terminal, exact bytes with --bytes (script(1) provides the terminal)
if ! command -v script >/dev/null; then
  ml_not_run "no script(1): terminal output check not run"
elif ! script -qc true /dev/null >/dev/null 2>&1; then
  ml_not_run "no pseudo-terminal can be made here ($(script -qc true /dev/null 2>&1 | head -n1)): terminal output check not run"
else
  script -qc "$MEMLENS maps $pid --addr $anon-$(printf %x $((0x$anon + 1)))" /dev/null | tr -d '\r' >"$tmp/tty"
  grep -q "^$anon-.* 8.0M .* 3.0M " "$tmp/tty" || fail "no human sizes on a terminal: $(cat "$tmp/tty")"
  script -qc "$MEMLENS maps $pid --bytes --addr $anon-$(printf %x $((0x$anon + 1)))" /dev/null | tr -d '\r' >"$tmp/tty"
  grep -q "^$anon-.* 8388608 3145728 " "$tmp/tty" || fail "--bytes on a terminal: $(cat "$tmp/tty")"
fi

# while the child maps and unmaps in a loop, every run still succeeds with consistent rows
cmd churn
for i in $(seq 1 20); do
  "$MEMLENS" maps "$pid" >"$tmp/churn" 2>"$tmp/err" || fail "maps during churn exit $?: $(cat "$tmp/err")"
  rows=$(grep -c '^[0-9a-f]\+-' "$tmp/churn")
  grep -q "^total .* $rows mappings\$" "$tmp/churn" || fail "totals row does not count the rows"
  $PY -c '
import re, sys
prev = 0
for l in open(sys.argv[1]):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", l)
    if m:
        s, e = int(m[1], 16), int(m[2], 16)
        assert s >= prev and e > s, l
        prev = e' "$tmp/churn" \
    || fail "rows out of order or overlapping during churn"
done
cmd stop

# --- a snapshot reads like the live process ---
if "$MEMLENS" dump -q -o "$tmp/snap.mlcore" "$pid" 2>"$tmp/err"; then
  "$MEMLENS" maps "$pid" >"$tmp/live" || fail "live maps exit $?"
  "$MEMLENS" maps "$tmp/snap.mlcore" >"$tmp/snapout" || fail "snapshot maps exit $?: $(cat "$tmp/snapout")"
  # the layout columns and names are the same; Rss/Pss are the moment's (Pss moves whenever
  # another process maps or drops a shared library page), so the totals row compares Size
  keep='{ if ($1 == "total") print $1, $2; else print $1, $2, $3, $4, $5, $6 }'
  cut -c1-80 "$tmp/live" | awk "$keep" >"$tmp/a"
  cut -c1-80 "$tmp/snapout" | awk "$keep" >"$tmp/b"
  diff "$tmp/a" "$tmp/b" >/dev/null || fail "snapshot rows differ from live: $(diff "$tmp/a" "$tmp/b" | head -5)"
  diff <(awk '{print $NF}' "$tmp/live") <(awk '{print $NF}' "$tmp/snapout") >/dev/null || fail "snapshot names differ"
  "$MEMLENS" maps "$tmp/snap.mlcore" --rollup --json | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["source"] == "snapshot" and d["rollup"]["rss"] > 0' \
    || fail "snapshot --rollup"
else
  fail "memlens dump of the child failed: $(head -1 "$tmp/err")"
fi

# --- permission denied: an unprivileged user against a root-owned child ---
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  ml_nobody_stage || fail "cannot stage memlens for an unprivileged user"
  setpriv --reuid=65534 --regid=65534 --clear-groups "${NB_MEMLENS[@]}" maps "$pid" >"$tmp/out" 2>"$tmp/err"; rc=$?
  ml_nobody_clean
  [ $rc -eq 2 ] || fail "unprivileged exit $rc: $(cat "$tmp/err")"
  grep -q "pid $pid" "$tmp/err" && grep -qi "permission denied" "$tmp/err" && grep -q "CAP_SYS_PTRACE" "$tmp/err" \
    || fail "unclear permission error: $(cat "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "data printed despite the error"
else
  ml_not_run "not root or no setpriv: permission test not run"
fi

# --- a process that exited before its mappings could be read (a zombie: /proc/PID is
# still there, its maps read empty). Python does not reap its children by itself. ---
$PY -c '
import os, signal
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
signal.pause()  # hold the zombie, unreaped, until killed
' >"$tmp/zpid" </dev/null &
Z_HOLDER=$!
zombie=
for i in $(seq 1 100000); do read -r zombie <"$tmp/zpid" && [ -n "$zombie" ] && break; done
for i in $(seq 1 100000); do
  grep -q '^State:.*Z' "/proc/$zombie/status" 2>/dev/null && break
done
grep -q '^State:.*Z' "/proc/$zombie/status" || fail "could not make a zombie"
"$MEMLENS" maps "$zombie" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "zombie exit $rc"
grep -q "pid $zombie" "$tmp/err" && grep -qi "exited" "$tmp/err" || fail "unclear zombie error: $(cat "$tmp/err")"
"$MEMLENS" maps "$zombie" --rollup >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -qi "exited" "$tmp/err" || fail "zombie --rollup: $rc $(cat "$tmp/err")"
kill "$Z_HOLDER"; Z_HOLDER=
echo "ok"
ml_done
