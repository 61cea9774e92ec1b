#!/usr/bin/env bash
# pagemap --svg and wss --svg: well-formed (xmllint), rendered (rsvg-convert) to a PNG with
# the expected colours, and saying what the data says: one box per mapping with its class
# shares, one WSS point per window with the measured values; written whole, under the
# output-file rules.
set -uo pipefail
: "${MEMLENS:?}" "${ML_HELPERS:?}" "${ML_SOURCE_DIR:?}"
ML=$MEMLENS
PY=/usr/bin/python3
PNG="$PY $ML_SOURCE_DIR/tests/support/pngcolours.py"
fail() { echo "FAIL: $*"; exit 1; }
for tool in xmllint rsvg-convert; do
  command -v $tool >/dev/null || { echo "skip: $tool not installed (scripts/deps.sh installs it)"; exit 77; }
done
T=$(mktemp -d)
cleanup() {
  [ -n "${M_PID:-}" ] && kill "$M_PID" 2>/dev/null
  [ -n "${G_PID:-}" ] && kill "$G_PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

coproc M { exec "$ML_HELPERS/ml_mapper"; }
M_PID=$M_PID
cmd() { echo "$*" >&"${M[1]}"; read -r ans <&"${M[0]}"; case $ans in ok*) ;; *) fail "child: $* -> $ans";; esac; }
read -r ready <&"${M[0]}"
pid=${ready#*pid=}
# 8 MiB with an unmapped page on each side, so that it can never merge with a neighbour
# (a merged mapping would be a different box)
cmd map 0x802000 rw; base=$(sed 's/.*addr=0x//' <<<"$ans")
cmd unmap 0x$base 0x1000
cmd unmap $(printf '0x%x' $((0x$base + 0x801000))) 0x1000
anon=$(printf '%x' $((0x$base + 0x1000)))
cmd touch 0x$anon 0x300000 4096

# ---- pagemap --svg: one box per mapping, each class as tall as its share ----
check_map() { # SVG JSON: the boxes are the mappings of the JSON, the 8 MiB one 3/8 present
  $PY - "$1" "$2" "$anon" <<'PY'
import json, sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
svg = ET.parse(sys.argv[1]).getroot()
d = json.load(open(sys.argv[2]))
groups = [g for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "mapping"]
starts = [int(g.get("data-start"), 16) for g in groups]
want = [int(m["start"], 16) for m in d["mappings"]]
assert starts == want, f"boxes {len(starts)} != mappings {len(want)}: {set(starts) ^ set(want)}"
for g in groups:
    assert g.find("s:title", ns) is not None and g.find("s:title", ns).text, "a box without a tooltip"
    assert g.findall("s:rect[@class='outline']", ns), "a box without an outline"
g = groups[starts.index(int(sys.argv[3], 16))]
rects = {r.get("class"): r for r in g.findall("s:rect", ns)}
box = float(rects["outline"].get("height"))
present = sum(float(rects[c].get("height")) for c in ("present", "thp", "file", "zero") if c in rects)
unpop = float(rects["unpopulated"].get("height"))
assert abs(present / box - 3 / 8) < 0.01, f"present share {present / box}, want 3/8"
assert abs(unpop / box - 5 / 8) < 0.01, f"unpopulated share {unpop / box}, want 5/8"
print(len(groups))
PY
}
# the picture and the JSON of one run: the same counts (the child's mappings could change
# between two runs, e.g. under a sanitizer's allocator)
"$ML" pagemap --json --svg "$T/map.svg" "$pid" >"$T/pm.json" || fail "pagemap --json --svg exit $?"
"$ML" pagemap --svg "$T/table.svg" "$pid" >"$T/pm.txt" || fail "pagemap --svg exit $?"
grep -q '^total' "$T/pm.txt" || fail "pagemap --svg no longer prints the table"
xmllint --noout "$T/map.svg" || fail "pagemap SVG is not well-formed"
n=$(check_map "$T/map.svg" "$T/pm.json") || fail "pagemap SVG does not match the data: $n"
[ "$n" -gt 5 ] || fail "only $n mappings drawn"
rsvg-convert -o "$T/map.png" "$T/map.svg" || fail "rsvg-convert failed on the map"
read -r w h ncol pres unpop < <($PNG "$T/map.png" '#d9534f' '#e8e8e8' | tr '\n' ' ' | awk '{print $1, $2, $3, $5, $7}')
[ "$w" -eq 1200 ] && [ "$h" -gt 100 ] || fail "map PNG is $w x $h"
[ "$ncol" -gt 4 ] || fail "map PNG has $ncol colours"
[ "$pres" -gt 0 ] && [ "$unpop" -gt 0 ] || fail "map PNG lacks present ($pres) or unpopulated ($unpop) pixels"
grep -q 'present (anonymous)' "$T/map.svg" || fail "no legend"

# log axis: the same boxes
"$ML" pagemap --json --svg "$T/log.svg" --svg-axis=log "$pid" >"$T/pm.json" || fail "--svg-axis=log exit $?"
check_map "$T/log.svg" "$T/pm.json" >/dev/null || fail "log-axis SVG does not match the data"
"$ML" pagemap --svg "$T/x.svg" --svg-axis=linear "$pid" 2>/dev/null; [ $? -eq 64 ] || fail "bad --svg-axis must exit 64"

# --populated draws what the table lists
"$ML" pagemap --populated --json --svg "$T/pop.svg" "$pid" >"$T/pop.json" || fail "pagemap --populated --svg"
check_map "$T/pop.svg" "$T/pop.json" >/dev/null || fail "--populated SVG does not match its table"

# a name with markup characters and bytes that are not UTF-8 stays well-formed, and shows
cmd mapfile "$T" "$(printf '<a&b>\xff"' | od -An -tx1 | tr -d ' \n')" 4096
"$ML" pagemap --svg "$T/odd.svg" "$pid" >/dev/null || fail "pagemap --svg (odd name) exit $?"
xmllint --noout "$T/odd.svg" || fail "an odd mapping name breaks the SVG"
grep -q '&lt;a&amp;b&gt;\\xff&quot;' "$T/odd.svg" || fail "the odd name is not shown escaped"

# a snapshot: the classes a snapshot has
"$ML" dump -q -o "$T/s.mlcore" "$pid" || fail "dump exit $?"
"$ML" pagemap --json "$T/s.mlcore" >"$T/snap.json" || fail "pagemap --json snapshot"
"$ML" pagemap --svg "$T/snap.svg" "$T/s.mlcore" >/dev/null || fail "pagemap --svg snapshot exit $?"
xmllint --noout "$T/snap.svg" || fail "snapshot SVG not well-formed"
grep -q 'captured data' "$T/snap.svg" || fail "snapshot legend lacks 'captured data'"
$PY - "$T/snap.svg" "$T/snap.json" "$anon" <<'PY' || fail "snapshot SVG does not match the data"
import json, sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
groups = [g for g in ET.parse(sys.argv[1]).getroot().iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "mapping"]
d = json.load(open(sys.argv[2]))
assert len(groups) == len(d["mappings"]), (len(groups), len(d["mappings"]))
g = [g for g in groups if int(g.get("data-start"), 16) == int(sys.argv[3], 16)][0]
r = {x.get("class"): float(x.get("height")) for x in g.findall("s:rect", ns)}
assert abs(r["present"] / r["outline"] - 3 / 8) < 0.01, r
PY

# ---- output rules: those of every file memlens writes ----
expect() { # RC PATTERN command...
  local want=$1 pat=$2 err rc
  shift 2
  err=$("$@" 2>&1 >/dev/null); rc=$?
  [ $rc -eq "$want" ] || fail "$*: exit $rc, want $want ($err)"
  grep -qE -- "$pat" <<<"$err" || fail "$*: stderr does not say /$pat/: $err"
}
cp "$T/map.svg" "$T/keep.svg"
expect 2 "map.svg: already exists \(use --force" "$ML" pagemap --svg "$T/map.svg" "$pid"
cmp -s "$T/map.svg" "$T/keep.svg" || fail "an existing file was changed without --force"
"$ML" pagemap -f --svg "$T/map.svg" "$pid" >/dev/null || fail "pagemap -f --svg exit $?"
"$ML" pagemap --force --svg "$T/map.svg" "$pid" >/dev/null || fail "pagemap --force --svg exit $?"
cp "$T/keep.svg" "$T/keep.orig"
ln -s "$T/keep.svg" "$T/link.svg"
expect 2 "link.svg: is a symbolic link" "$ML" pagemap -f --svg "$T/link.svg" "$pid"
[ -L "$T/link.svg" ] && cmp -s "$T/keep.svg" "$T/keep.orig" || fail "--svg -f wrote through a symlink"
mkdir "$T/dir.svg"
expect 2 "dir.svg: is a directory" "$ML" pagemap -f --svg "$T/dir.svg" "$pid"
mkfifo "$T/fifo.svg"
expect 2 "fifo.svg: is a FIFO" "$ML" pagemap -f --svg "$T/fifo.svg" "$pid"
expect 2 "cannot create it: directory $T/nodir: does not exist" "$ML" pagemap --svg "$T/nodir/m.svg" "$pid"
expect 64 "--svg needs a file name" "$ML" pagemap --svg '' "$pid"
expect 64 "--svg needs a file name" "$ML" pagemap --svg - "$pid"
expect 64 "does not go with --addr" "$ML" pagemap --svg "$T/a.svg" --addr "$anon-$(printf %x $((0x$anon + 4096)))" "$pid"
[ -e "$T/a.svg" ] && fail "a refused --svg left a file"
# a process that cannot be read: no picture at all
expect 2 "pid 1073741808" "$ML" pagemap --svg "$T/none.svg" 1073741808
[ -e "$T/none.svg" ] && fail "a failed pagemap left a picture"
# no temporary file is ever left beside the pictures
ls -A "$T" | grep -q '^\.' && fail "temporary files left: $(ls -A "$T")"

# ---- wss --svg: one point per window, the values measured ----
cat >"$T/grow.py" <<'EOF'
import sys, time
a = bytearray(32 << 20)
print("ready", flush=True)
step = 0
while True:
    n = (step % 8 + 1) << 22          # 4..32 MiB, a different amount each pass
    for k in range(0, n, 4096):
        a[k] = 1
    step += 1
    time.sleep(0.03)
EOF
coproc G { exec "$PY" "$T/grow.py"; }
G_PID=$G_PID
read -r _ <&"${G[0]}"
"$ML" wss -n 4 -i 150ms --json --regions --top 3 --svg "$T/wss.svg" "$G_PID" >"$T/wss.json" 2>"$T/wss.err" \
  || fail "wss --svg exit $?: $(cat "$T/wss.err")"
xmllint --noout "$T/wss.svg" || fail "wss SVG not well-formed"
$PY - "$T/wss.svg" "$T/wss.json" <<'PY' || fail "wss SVG does not match the samples"
import json, sys, xml.etree.ElementTree as ET
S = "{http://www.w3.org/2000/svg}"
svg = ET.parse(sys.argv[1]).getroot()
recs = [json.loads(l) for l in open(sys.argv[2])]
assert len(recs) == 4, len(recs)
lines = {}
for p in svg.iter(S + "polyline"):
    lines.setdefault(p.get("class"), []).append(p)
for cls, key in (("wss", "wss"), ("rss", "rss")):
    assert len(lines[cls]) == 1, f"{cls}: {len(lines[cls])} lines"
    p = lines[cls][0]
    pts = [tuple(map(float, xy.split(","))) for xy in p.get("points").split()]
    vals = [float(v) for v in p.get("data-values").split()]
    assert len(pts) == len(recs) == len(vals), f"{cls}: {len(pts)} points for {len(recs)} windows"
    assert vals == [float(r[key]) for r in recs], f"{cls}: {vals} != {[r[key] for r in recs]}"
    xs = [x for x, _ in pts]
    assert xs == sorted(xs) and len(set(xs)) == len(xs), f"{cls}: time does not advance: {xs}"
    # y is linear in the value: every point where the line through the smallest and the
    # largest value puts it, to the coordinates' rounding (0.01 px; values that differ by a
    # few pages are a fraction of a pixel apart, so slopes between them say nothing)
    lo, hi = vals.index(min(vals)), vals.index(max(vals))
    if vals[hi] != vals[lo]:
        s = (pts[hi][1] - pts[lo][1]) / (vals[hi] - vals[lo])
        assert s < 0, f"{cls}: a larger value is drawn lower"
        for (x, y), v in zip(pts, vals):
            want = pts[lo][1] + (v - vals[lo]) * s
            assert abs(y - want) <= 0.02, f"{cls}: not to scale: {v} at y={y}, want {want:.2f}"
wv = [float(v) for v in lines["wss"][0].get("data-values").split()]
rv = [float(v) for v in lines["rss"][0].get("data-values").split()]
wy = [float(xy.split(",")[1]) for xy in lines["wss"][0].get("points").split()]
ry = [float(xy.split(",")[1]) for xy in lines["rss"][0].get("points").split()]
for a, b, ya, yb in zip(wv, rv, wy, ry):   # both curves share the axis
    # (values a fraction of a pixel apart may round to the same y)
    assert (a < b) == (ya > yb) or a == b or abs(ya - yb) <= 0.02, "WSS and RSS are not on the same scale"
regions = lines.get("region", [])
labels = {p.find(S + "title").text for p in regions}
assert 1 <= len(labels) <= 3, f"--top 3 drew {len(labels)} mappings"
print("ok")
PY
rsvg-convert -o "$T/wss.png" "$T/wss.svg" || fail "rsvg-convert failed on the WSS chart"
read -r ncol red blue < <($PNG "$T/wss.png" '#d9534f' '#4a90d9' | tr '\n' ' ' | awk '{print $3, $5, $7}')
[ "$ncol" -gt 4 ] && [ "$red" -gt 0 ] && [ "$blue" -gt 0 ] || fail "WSS PNG: $ncol colours, WSS $red px, RSS $blue px"

# a series stopped with Ctrl-C: the windows that closed are drawn, one point each
"$ML" wss -n 0 -i 100ms --csv --svg "$T/int.svg" "$G_PID" >"$T/int.csv" 2>/dev/null &
W_PID=$!
# wait (on what it printed, not on time) for three windows to close
for _ in $(seq 600); do [ "$(grep -c '^[0-9]' "$T/int.csv")" -ge 3 ] && break; sleep 0.05; done
kill -INT "$W_PID"
wait "$W_PID"; rc=$?
[ $rc -eq 0 ] || fail "wss interrupted: exit $rc"
rows=$(grep -c '^[0-9]' "$T/int.csv")
[ "$rows" -ge 3 ] || fail "wss printed $rows windows"
n=$(grep -o 'class="wss"[^>]*points="[^"]*"' "$T/int.svg" | sed 's/.*points="//; s/"$//' | wc -w)
[ "$n" -eq "$rows" ] || fail "interrupted series: $rows windows printed, $n points drawn"

# one window: one point, marked
"$ML" wss -i 100ms --svg "$T/one.svg" "$G_PID" >/dev/null 2>&1 || fail "wss one window exit $?"
[ "$(grep -c 'class="wss"' "$T/one.svg")" -eq 1 ] && grep -q 'class="wss-point"' "$T/one.svg" \
  || fail "one window is not one marked point"
expect 2 "one.svg: already exists" "$ML" wss -i 100ms --svg "$T/one.svg" "$G_PID"
"$ML" wss -f -i 100ms --svg "$T/one.svg" "$G_PID" >/dev/null 2>&1 || fail "wss -f --svg exit $?"
expect 64 "does not go with --probe" "$ML" wss --probe --svg "$T/p.svg"
# a process that is gone: an error and no picture
expect 2 "pid 1073741808" "$ML" wss -i 100ms --svg "$T/gone.svg" 1073741808
[ -e "$T/gone.svg" ] && fail "wss of no process left a picture"
ls -A "$T" | grep -q '^\.' && fail "temporary files left: $(ls -A "$T")"
echo ok
