# memlens pagemap: per-mapping counts agree with smaps (Rss, AnonHugePages, Swap); scan and
# plain-read paths print the same; --addr run listing; exit codes.
set -u
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 needed to check the output"; exit 77; }

coproc CH { exec "$ML_HELPERS/ml_pages"; }
. "$ML_SOURCE_DIR/tests/support/cli.sh" || { echo "FAIL: tests/support/cli.sh"; exit 1; }
tmp=$(mktemp -d)
trap 'kill $CH_PID 2>/dev/null; rm -rf "$tmp"; ml_nobody_clean' EXIT
read -r line <&"${CH[0]}"
PID=${line#ready pid=}
cmd() { echo "$*" >&"${CH[1]}"; read -r reply <&"${CH[0]}"; case $reply in ok*) return 0;; *) return 1;; esac; }
kv() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$reply"; }

cmd anon 16 || fail anon; A=$(kv addr)
cmd write "$A" 4 || fail write
cmd readf "$(printf '0x%x' $((A + 4 * 4096)))" 4 || fail readf
cmd thp || fail thp; T=$(kv addr)
cmd shared 8 || fail shared
cmd protnone 3 || fail protnone
cmd file "$tmp/f" 64 || fail file
cmd alt 200 || fail alt
# guard pages where the kernel has them (6.13): the counts below must agree with or without
cmd guard 2 || true

"$MEMLENS" pagemap --json "$PID" >"$tmp/j" || fail "pagemap exit $?"
python3 - "$tmp/j" "/proc/$PID/smaps" <<'EOF' || fail "counts disagree with smaps"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "memlens.pagemap/1", d["schema"]
smaps, cur = {}, None
for line in open(sys.argv[2]):
    f = line.split()
    if "-" in f[0] and not f[0].endswith(":"):
        a, b = f[0].split("-")
        cur = smaps.setdefault((int(a, 16), int(b, 16)), {})
    elif f[0].endswith(":") and len(f) >= 2 and f[1].isdigit():
        cur[f[0][:-1]] = int(f[1]) * 1024
checked = 0
for m in d["mappings"]:
    key = (int(m["start"], 16), int(m["end"], 16))
    if key not in smaps:
        continue  # [vsyscall] is not in smaps
    s = smaps[key]
    rss = m["present"] - m["zero"]
    assert rss == s["Rss"], (m, s["Rss"])
    thp_anon = m["thp"] if m["kind"] not in ("file", "shmem", "memfd", "sysv") else 0
    assert thp_anon == s.get("AnonHugePages", 0), (m, s.get("AnonHugePages"))
    assert m["swapped"] == s.get("Swap", 0), m
    assert m["present"] <= m["mapped"] and m["file"] <= m["present"] + m["swapped"], m
    checked += 1
assert checked >= 10, checked
t = d["totals"]
assert t["present"] == sum(m["present"] for m in d["mappings"])
EOF

# the known regions, as the child made them
# What the kernel mapped on the read faults, from the child's own pagemap entries (the
# exclusive bit 56 is shown without privileges): the shared zero page, or on a kernel
# without one (pvm_no_zero_page=1) a private page that is data like any other.
python3 - "$tmp/j" "$A" "$PID" "$T" <<'EOF' || fail "known page states"
import json, struct, sys
d = json.load(open(sys.argv[1])); a = int(sys.argv[2], 16); t = int(sys.argv[4], 16)
with open("/proc/%s/pagemap" % sys.argv[3], "rb") as f:
    def entry(addr):
        f.seek(addr // 4096 * 8); return struct.unpack("<Q", f.read(8))[0]
    e, he = entry(a + 4 * 4096), entry(t + (2 << 20))
zero_on = not (e >> 56) & 1
m = [m for m in d["mappings"] if int(m["start"], 16) <= a < int(m["end"], 16)][0]
assert m["present"] >= 8 * 4096, m
if not zero_on:
    assert m["zero"] == 0, m
elif d["pfn_visible"] or d["method"] == "PAGEMAP_SCAN":
    assert m["zero"] >= 4 * 4096, m
thp = [m for m in d["mappings"] if int(m["start"], 16) <= t < int(m["end"], 16)][0]
try:
    thp_mode = open("/sys/kernel/mm/transparent_hugepage/enabled").read().split("[")[1].split("]")[0]
except (OSError, IndexError):
    thp_mode = "never"
if thp_mode != "never" and d["pfn_visible"]:
    assert thp["thp"] >= 2 << 20, ("no THP mapping seen with THP %s" % thp_mode, thp)
huge_zero = (he >> 63) & 1 and not (he >> 56) & 1 and (he >> 61) & 1
if thp["thp"] >= 2 << 20 and (d["pfn_visible"] or d["method"] == "PAGEMAP_SCAN"):
    # the read-faulted half: the huge zero page where the kernel mapped it, else data
    assert thp["zero"] == (2 << 20 if huge_zero else 0), (thp, hex(he))
shared = [m for m in d["mappings"] if m["kind"] == "shmem" and m["present"] == 8 * 4096]
assert shared and shared[0]["file"] == 8 * 4096, shared
EOF

# The plain-read path prints the same document. Under sanitizers the helper reserves
# terabytes of shadow memory, which plain reads walk at 8 bytes a page (minutes); there
# integration_pagemap compares the two paths mapping by mapping instead.
huge=$(python3 -c '
import sys
print(sum(1 for l in open(sys.argv[1]) if (lambda a, b: b - a)(*(int(x, 16) for x in l.split()[0].split("-"))) > 4 << 30))' /proc/$PID/maps)
if [ "$huge" -gt 0 ]; then
  ml_not_run "$huge reservation(s) over 4 GiB in the helper (sanitizer build): the --emulate comparison is left to integration_pagemap"
  cp "$tmp/j" "$tmp/e"
  sed -i 's/"method":"PAGEMAP_SCAN"/"method":"pagemap"/' "$tmp/e"
else
  "$MEMLENS" pagemap --json --emulate "$PID" >"$tmp/e" || fail "--emulate exit $?"
fi
python3 - "$tmp/j" "$tmp/e" <<'EOF' || fail "PAGEMAP_SCAN and plain reads disagree"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for x in (a, b):
    x.pop("method")
    for m in x["mappings"] + [x["totals"]]:
        # Kernel LRU state moves on its own, and the sharing counts of library pages
        # (kpagecount) move whenever any other process maps or unmaps those libraries.
        for k in ("lru", "active", "referenced", "idle", "dirty", "shared", "mapcount_max"):
            m.pop(k, None)
        if m.get("file", 0) or m is x["totals"]:  # "mapped by this process only" too
            m.pop("exclusive", None)
if a != b:
    for ma, mb in zip(a["mappings"] + [a["totals"]], b["mappings"] + [b["totals"]]):
        if ma != mb:
            print("scan:   ", ma); print("emulate:", mb)
    sys.exit(1)
EOF

# the table: one row per mapping plus totals; --populated drops empty ones
"$MEMLENS" pagemap --bytes "$PID" >"$tmp/t" || fail "table exit"
head -1 "$tmp/t" | grep -q "PRESENT" || fail "table header"
tail -1 "$tmp/t" | grep -q "^total" || fail "totals row"
rows=$(grep -c '^[0-9a-f]\{12\}-' "$tmp/t")
prow=$("$MEMLENS" pagemap --populated "$PID" | grep -c '^[0-9a-f]\{12\}-')
[ "$prow" -lt "$rows" ] || fail "--populated kept every mapping"

# --addr: run-length listing of the 16-page region: written, zero, untouched
END=$(printf '0x%x' $((A + 16 * 4096)))
"$MEMLENS" pagemap --addr "$A-$END" --json "$PID" >"$tmp/r" || fail "--addr exit"
python3 - "$tmp/r" "$A" <<'EOF' || fail "--addr runs"
import json, sys
d = json.load(open(sys.argv[1])); a = int(sys.argv[2], 16)
runs = d["runs"]
assert sum(r["pages"] for r in runs) == 16
assert int(runs[0]["start"], 16) == a and int(runs[-1]["end"], 16) == a + 16 * 4096
last = runs[-1]
assert last["pages"] == 8 and last["flags"] == [], last
written = [r for r in runs if "exclusive" in r["flags"]]
assert sum(r["pages"] for r in written) == 4, runs
if d["pfn_visible"]:
    zero = [r for r in runs if "zero_pfn" in r["flags"]]
    assert len(zero) == 1 and zero[0]["pages"] == 4, runs
    if d["kpageflags"]:
        assert all("anonymous" in r["flags"] for r in written), written
        assert "zero_page" in zero[0]["flags"], zero
EOF
"$MEMLENS" pagemap --addr "$A-$END" "$PID" | grep -q "^START" || fail "--addr table"

# --addr to the top of the 64-bit space: the listing ends where pagemap ends (the top of the
# user address space), covers every page up to there once, and finds the same present pages
# as the per-mapping report; its cost follows what is mapped, not the range's size
# (reading every entry of 2^63 bytes took 1.1 s per TiB).
"$MEMLENS" pagemap --json --no-kpage "$PID" >"$tmp/j2" || fail "pagemap exit"
for hi in ffffffffffffffff 7fffffffffffffff; do
  timeout 60 "$MEMLENS" pagemap --no-kpage --addr "$A-$hi" --json "$PID" >"$tmp/top" || fail "--addr $A-$hi exit $?"
  python3 - "$tmp/top" "$A" "$tmp/j2" <<'EOF' || fail "--addr $A-$hi"
import json, sys
d = json.load(open(sys.argv[1])); a = int(sys.argv[2], 16); rep = json.load(open(sys.argv[3]))
runs = d["runs"]
assert runs, "no runs listed"
assert int(runs[0]["start"], 16) == a, runs[0]
for x, y in zip(runs, runs[1:]):
    assert x["end"] == y["start"], (x, y)
assert all(int(r["end"], 16) - int(r["start"], 16) == r["pages"] * 4096 for r in runs)
top = int(runs[-1]["end"], 16)
last = max(int(m["end"], 16) for m in rep["mappings"] if int(m["end"], 16) < 1 << 63)
assert top >= last, hex(top)
# above the last mapping, nothing is present (with ASLR off the stack ends at the top)
if top > last:
    assert runs[-1]["flags"] == [] and int(runs[-1]["start"], 16) <= last, runs[-1]
EOF
done
# the whole space: the same present pages as the report's totals (from A, a mapping that
# merged with one below A would count only in part)
timeout 60 "$MEMLENS" pagemap --no-kpage --addr 0-7fffffffffffffff --json "$PID" >"$tmp/all" || fail "--addr 0-7fffffffffffffff exit $?"
python3 - "$tmp/all" "$tmp/j2" <<'EOF' || fail "--addr 0-7fffffffffffffff"
import json, sys
d = json.load(open(sys.argv[1])); rep = json.load(open(sys.argv[2]))
runs = d["runs"]
assert int(runs[0]["start"], 16) == 0 and len(runs) > 10, runs[:2]
present = sum(r["pages"] for r in runs if "present" in r["flags"]) * 4096
assert present == rep["totals"]["present"], (present, rep["totals"]["present"])
EOF
timeout 60 "$MEMLENS" pagemap --no-kpage --addr 0-7fffffffffffffff "$PID" >"$tmp/allt" || fail "--addr 0-7fffffffffffffff (table) exit $?"
head -2 "$tmp/allt" | tail -1 | grep -q "^00000000000000 " || fail "the listing starts at 0"

# Without visible PFNs the plain-read path cannot tell zero pages or THPs: unknown, not 0
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups bash -c 'sleep 60 & s=$!; until [ "$(cat /proc/$s/comm 2>/dev/null)" = sleep ]; do :; done; "$@" "$s"; r=$?; kill $s; exit $r' _ "$@"; }
  # (the wait: until the child has exec'd sleep, its address space is bash's, then goes)
  # the build tree may sit where nobody cannot reach (/root): a staged copy
  ml_nobody_stage || fail "staging memlens for nobody"
  asnobody "${NB_MEMLENS[@]}" pagemap --emulate --json >"$tmp/u" || fail "pagemap --emulate --json as nobody"
  asnobody "${NB_MEMLENS[@]}" pagemap --emulate >"$tmp/ut" || fail "pagemap --emulate as nobody"
  ml_nobody_clean
  python3 - "$tmp/u" <<'EOF' || fail "unknown counts"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d["pfn_visible"] and d["method"] == "pagemap", d
for m in d["mappings"] + [d["totals"]]:
    assert m["zero"] is None and m["thp"] is None, m
    assert isinstance(m["present"], int), m
EOF
  awk 'NR > 1 && /^[0-9a-f]/ && ($6 != "-" || $7 != "-") { exit 1 }' "$tmp/ut" || fail "ZERO/THP not shown as unknown"
fi

# usage and errors
"$MEMLENS" pagemap --help | grep -q -- "--addr" || fail "--help"
"$MEMLENS" pagemap 2>/dev/null; [ $? = 64 ] || fail "missing PID is not a usage error"
"$MEMLENS" pagemap --addr zz "$PID" 2>/dev/null; [ $? = 64 ] || fail "bad range is not a usage error"
"$MEMLENS" pagemap 999999999 2>"$tmp/err"; [ $? = 2 ] || fail "no such process"
grep -q "pid 999999999" "$tmp/err" || fail "error names the pid"
echo ok
ml_done
