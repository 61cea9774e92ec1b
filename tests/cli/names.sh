# Mapping names round-trip through a snapshot byte for byte, or are flagged: a file whose name
# holds the four bytes "\012" (which maps text cannot tell from a newline) and one whose name
# holds a real newline.
set -u
fail() { echo "FAIL: $*"; exit 1; }
M=${MEMLENS:?}
command -v python3 >/dev/null || { echo "SKIP: python3 needed"; exit 77; }
T=$(mktemp -d)
CP=
trap '[ -n "$CP" ] && kill $CP 2>/dev/null; rm -rf "$T"' EXIT

exec {F}< <(exec python3 -c '
import mmap, os, sys, time
keep = []
for n in (sys.argv[1] + "/lit\\012eral", sys.argv[1] + "/new\nline"):
    open(n, "wb").write(b"x" * 8192)
    f = open(n, "rb")
    keep.append((f, mmap.mmap(f.fileno(), 8192, prot=mmap.PROT_READ)))
print(os.getpid(), flush=True)
time.sleep(1000)' "$T")
read -r CP <&$F || fail "setup: no child"

"$M" dump -q -o "$T/s.mlcore" "$CP" || fail "dump exit $?"
for src in "$CP" "$T/s.mlcore"; do
	"$M" maps --json "$src" >"$T/m.json" || fail "maps --json $src: exit $?"
	python3 - "$T" "$T/m.json" "$src" <<'EOF' || fail "names of $src"
import json, re, sys
def exact(s):  # a JSON string's bytes (memlens(1), JSON strings): \\ is a backslash, \xNN a byte
    return re.sub(rb'\\(\\|x([0-9a-f]{2}))',
                  lambda m: b'\\' if m.group(1) == b'\\' else bytes([int(m.group(2), 16)]), s.encode())
t, f, src = sys.argv[1], sys.argv[2], sys.argv[3]
names = {exact(m["name"]).decode(errors="surrogateescape"): m for m in json.load(open(f))["mappings"]}
lit, nl = t + "/lit\\012eral", t + "/new\nline"
if lit not in names:
    sys.exit("%s: the name with a literal \\012 did not round-trip: %r" % (src, [n for n in names if "lit" in n]))
if names[lit].get("name_uncertain"):
    sys.exit("%s: an exact name is flagged uncertain" % src)
if nl not in names:
    sys.exit("%s: the name with a newline is missing: %r" % (src, [n for n in names if "line" in n]))
flag = t + "/live_nl_uncertain"
if not src.endswith(".mlcore"):
    open(flag, "w").write("1" if names[nl].get("name_uncertain") else "0")
elif open(flag).read() == "0" and names[nl].get("name_uncertain"):
    sys.exit("%s: a name the capture resolved exactly is flagged uncertain" % src)
EOF
done
# in text, an uncertain name is marked; the literal one shows its backslash escaped
"$M" maps "$T/s.mlcore" >"$T/m.txt" || fail "maps text exit $?"
grep -qF 'lit\\012eral' "$T/m.txt" || fail "text: literal name not shown exactly: $(grep lit "$T/m.txt")"
line=$(grep -F 'new\nline' "$T/m.txt")
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(m.get("name_uncertain") for m in d["mappings"] if "line" in m["name"]) else 1)' "$T/m.json" &&
	{ grep -q "(name uncertain)" <<<"$line" || fail "text: an uncertain name is not marked: $line"; }
echo ok
