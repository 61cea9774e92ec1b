#!/usr/bin/env bash
# memlens ps --prometheus and --textfile: the exposition format checked by promtool, label
# values escaped (a comm with a quote, a backslash, a newline and a byte that is not UTF-8),
# the values the same as --json's, and the textfile replaced atomically.
set -uo pipefail
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: /usr/bin/python3 is needed"; exit 77; }
command -v promtool >/dev/null || { echo "SKIP: promtool (Debian package prometheus, scripts/deps.sh) is not installed"; exit 77; }

tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
tag="mlprom$$x$RANDOM"
mkfifo "$tmp/in" "$tmp/out"
# a child whose comm holds every byte the format must escape: w"e\i<newline>rd<0xff>
"$PY" -c '
import ctypes, mmap, sys
ctypes.CDLL(None).prctl(15, b"w\"e\\i\nrd\xff", 0, 0, 0)
a = mmap.mmap(-1, 8 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for i in range(0, 8 << 20, 4096):
    a[i] = 1
print("ok", flush=True)
sys.stdin.read()' "$tag" <"$tmp/in" >"$tmp/out" &
pid=$!
exec {w}>"$tmp/in" {r}<"$tmp/out"
read -r line <&"$r"
[ "$line" = ok ] || fail "child did not start: $line"

"$MEMLENS" ps --pgrep "$tag" -f --prometheus >"$tmp/m" 2>"$tmp/e" || fail "--prometheus exit $?: $(cat "$tmp/e")"
promtool check metrics <"$tmp/m" >"$tmp/pt" 2>&1 || fail "promtool: $(cat "$tmp/pt")"
for m in rss pss uss swap_pss pss_anon pss_file pss_shmem; do
  grep -q "^# TYPE memlens_process_${m}_bytes gauge$" "$tmp/m" || fail "no TYPE for $m"
  grep -q "^# HELP memlens_process_${m}_bytes " "$tmp/m" || fail "no HELP for $m"
done
"$MEMLENS" ps --pgrep "$tag" -f --json >"$tmp/j" || fail "--json exit $?"
"$PY" - "$tmp/m" "$tmp/j" "$pid" <<'PY' || fail "exposition content"
import json, re, sys
pid = sys.argv[3]
d = json.load(open(sys.argv[2]))
samples = {}
lab = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], v)
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'^(\w+)(?:\{(.*)\})? (\d+)$', line.rstrip("\n"))
    assert m, "bad sample line %r" % line
    labels = {k: unescape(v) for k, v in lab.findall(m.group(2) or "")}
    samples.setdefault(m.group(1), []).append((labels, int(m.group(3))))
mine = [(l, v) for l, v in samples["memlens_process_pss_anon_bytes"] if l["pid"] == pid]
assert len(mine) == 1, samples
l, v = mine[0]
# the comm as the table shows it: backslash doubled, newline as \n, 0xff as \xff
assert l["comm"] == 'w"e\\\\i\\nrd\\xff', repr(l["comm"])
assert set(l) == {"pid", "comm", "user", "cgroup"}, l
p = d["processes"][0]
assert p["pid"] == int(pid) and l["user"] == p["user"] and l["cgroup"] == p["cgroup"], (l, p)
# the child is idle: its anonymous memory is what --json saw (file pages are not compared:
# their PSS and USS move whenever another python starts or stops on the machine)
assert abs(v - p["pss_anon"]) <= 64 * 1024 and v >= 8 << 20, (v, p["pss_anon"])
for k in ("rss", "pss", "uss", "swap_pss", "pss_file", "pss_shmem"):
    assert [x for l2, x in samples["memlens_process_%s_bytes" % k] if l2 == l], k
assert samples["memlens_ps_processes"] == [({}, 1)], samples["memlens_ps_processes"]
assert samples["memlens_ps_unreadable_processes"] == [({}, 0)]
PY

# --- --textfile: written whole, by rename, readable by the collector, nothing left beside it ---
mkdir "$tmp/tf"
echo "old" >"$tmp/tf/memlens.prom"
"$MEMLENS" ps --pgrep "$tag" -f --textfile "$tmp/tf/memlens.prom" >"$tmp/o" 2>"$tmp/e" || fail "--textfile exit $?: $(cat "$tmp/e")"
[ ! -s "$tmp/o" ] || fail "--textfile also wrote stdout"
promtool check metrics <"$tmp/tf/memlens.prom" >"$tmp/pt" 2>&1 || fail "promtool on the textfile: $(cat "$tmp/pt")"
grep -q "^memlens_process_uss_bytes{pid=\"$pid\"" "$tmp/tf/memlens.prom" || fail "textfile content"
[ "$(stat -c %a "$tmp/tf/memlens.prom")" = 644 ] || fail "textfile mode $(stat -c %a "$tmp/tf/memlens.prom")"
[ "$(ls -A "$tmp/tf")" = memlens.prom ] || fail "left beside it: $(ls -A "$tmp/tf")"
# the file is replaced by rename: a reader holding the old one keeps reading the old bytes
ino1=$(stat -c %i "$tmp/tf/memlens.prom")
exec {old}<"$tmp/tf/memlens.prom"
"$MEMLENS" ps --pgrep "$tag" -f --textfile "$tmp/tf/memlens.prom" || fail "second --textfile exit $?"
[ "$(stat -c %i "$tmp/tf/memlens.prom")" != "$ino1" ] || fail "the file was rewritten in place, not renamed over"
head -c 6 <&"$old" | grep -q '^# HELP' || fail "the old file changed under its reader"
exec {old}<&-

# --- failures leave the previous file and nothing else ---
cp "$tmp/tf/memlens.prom" "$tmp/before"
"$MEMLENS" ps --textfile "$tmp/nodir/memlens.prom" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "nodir" "$tmp/e" || fail "missing directory: exit $rc: $(cat "$tmp/e")"
ln -s "$tmp/before" "$tmp/tf/link.prom"
"$MEMLENS" ps --textfile "$tmp/tf/link.prom" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "symbolic link" "$tmp/e" || fail "symlink target: exit $rc: $(cat "$tmp/e")"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  . "$ML_SOURCE_DIR/tests/support/cli.sh"
  ml_nobody_stage || fail "cannot stage memlens"
  chmod 755 "$tmp" "$tmp/tf"; chmod 644 "$tmp/tf/memlens.prom"
  setpriv --reuid=65534 --regid=65534 --clear-groups "${NB_MEMLENS[@]}" ps --textfile "$tmp/tf/memlens.prom" >/dev/null 2>"$tmp/e"; rc=$?
  ml_nobody_clean
  [ $rc -eq 2 ] || fail "unwritable directory: exit $rc"
  cmp -s "$tmp/before" "$tmp/tf/memlens.prom" || fail "a failed write changed the file"
fi
[ "$(ls -A "$tmp/tf" | sort | tr '\n' ' ')" = "link.prom memlens.prom " ] || fail "left behind: $(ls -A "$tmp/tf")"
# --- a directory that cannot be synced: the file is whole and in place, said, exit 1 ---
# (fsync_dir_fail.so, preloaded, fails fsync on directories and logs each refusal)
nosync() {
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" ML_FSYNC_DIR_FAIL_LOG="$tmp/synclog" \
    LD_PRELOAD="$ML_BINARY_DIR/tests/fsync_dir_fail.so" "$MEMLENS" "$@"
}
rm -f "$tmp/synclog"
nosync ps --pgrep "$tag" -f --textfile "$tmp/tf/memlens.prom" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ -s "$tmp/synclog" ] || fail "ps: the preloaded fsync refused nothing (exit $rc: $(cat "$tmp/e"))"
[ $rc -eq 1 ] || fail "ps, directory not synced: exit $rc, want 1: $(cat "$tmp/e")"
grep -qF "$tmp/tf/memlens.prom: warning: complete and in place, but syncing its directory failed: Input/output error" \
  "$tmp/e" || fail "ps, directory not synced: $(cat "$tmp/e")"
grep -q "^memlens_process_uss_bytes{pid=\"$pid\"" "$tmp/tf/memlens.prom" || fail "ps, not synced: textfile content"
rm -f "$tmp/synclog"
nosync wss -i 100ms --prometheus --textfile "$tmp/tf/memlens.prom" "$pid" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ -s "$tmp/synclog" ] && [ $rc -eq 1 ] || fail "wss, directory not synced: exit $rc, want 1: $(cat "$tmp/e")"
grep -qF "$tmp/tf/memlens.prom: warning: complete and in place, but syncing its directory failed" "$tmp/e" ||
  fail "wss, directory not synced: $(cat "$tmp/e")"
grep -q "^memlens_wss_bytes{pid=\"$pid\"" "$tmp/tf/memlens.prom" || fail "wss, not synced: textfile content"
nosync pagemap --svg "$tmp/tf/map.svg" "$pid" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -eq 1 ] || fail "pagemap --svg, directory not synced: exit $rc, want 1: $(cat "$tmp/e")"
grep -qF "$tmp/tf/map.svg: warning: complete and in place, but syncing its directory failed" "$tmp/e" ||
  fail "pagemap --svg, directory not synced: $(cat "$tmp/e")"
grep -q "</svg>" "$tmp/tf/map.svg" || fail "pagemap --svg, not synced: the picture is not whole"
rm "$tmp/tf/map.svg"
[ "$(ls -A "$tmp/tf" | sort | tr '\n' ' ')" = "link.prom memlens.prom " ] || fail "left behind: $(ls -A "$tmp/tf")"

# --- wss --prometheus: one window per process, the same labels, checked by promtool ---
"$MEMLENS" wss -i 100ms --prometheus --textfile "$tmp/tf/wss.prom" "$pid" >"$tmp/o" 2>"$tmp/e" || fail "wss --textfile exit $?: $(cat "$tmp/e")"
promtool check metrics <"$tmp/tf/wss.prom" >"$tmp/pt" 2>&1 || fail "promtool on wss: $(cat "$tmp/pt")"
"$PY" - "$tmp/tf/wss.prom" "$pid" <<'PY' || fail "wss exposition content"
import re, sys
pid = sys.argv[2]
lab = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], v)
vals = {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#"):
        continue
    m = re.match(r'^(\w+)\{(.*)\} (\S+)$', line.strip())
    assert m, "bad line %r" % line
    labels = {k: unescape(v) for k, v in lab.findall(m.group(2))}
    assert set(labels) == {"pid", "comm", "user", "cgroup"}, labels
    assert labels["pid"] == pid and labels["comm"] == 'w"e\\\\i\\nrd\\xff', labels
    vals[m.group(1)] = float(m.group(3))
for k in ("wss", "wss_anon", "wss_file", "wss_shmem", "wss_rss", "wss_pss"):
    assert "memlens_%s_bytes" % k in vals, (k, vals)
assert vals["memlens_wss_rss_bytes"] >= 8 << 20, vals
assert vals["memlens_wss_bytes"] <= vals["memlens_wss_rss_bytes"], vals
assert 0.1 <= vals["memlens_wss_window_seconds"] < 10, vals
PY
"$MEMLENS" wss --prometheus -n 2 "$pid" >/dev/null 2>&1; [ $? -eq 64 ] || fail "wss --prometheus with -n 2 must be a usage error"
echo "prometheus: ok"
