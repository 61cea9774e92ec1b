#!/usr/bin/env bash
# memlens core: info, verify, expand, export on a fixture snapshot; refusals; exit codes.
set -u
. "$ML_SOURCE_DIR/tests/support/cli.sh"
F="$ML_FIXTURES/snapshot/synthetic.mlcore"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() { # expected-rc command...
	local want=$1; shift
	"$@" >"$T/out" 2>"$T/err"
	local rc=$?
	[ "$rc" = "$want" ] || { cat "$T/out" "$T/err"; fail "exit $rc (wanted $want): $*"; }
}

# ---- info
expect_rc 0 "$MEMLENS" core info --bytes "$F"
grep -qx 'process    pid 4242 (synthetic) /usr/bin/synthetic' "$T/out" || fail "info: process line"
grep -qx 'threads    2' "$T/out" || fail "info: threads"
grep -q '^memory     data 94208, zero 0, unpopulated 28672, excluded 36864, unreadable 45056$' "$T/out" \
	|| fail "info: memory by kind"
grep -q '^notes      10 core notes; saved /proc files: maps status$' "$T/out" || fail "info: notes"
[ "$(grep -c '^5555' "$T/out")" = 6 ] || fail "info: 6 mappings"
expect_rc 0 "$MEMLENS" core info --json "$F"
python3 - "$T/out" <<'PY' || fail "info --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "memlens.core.info/1"
assert d["pid"] == 4242 and d["threads"] == 2
assert d["manifest"]["comm"] == "synthetic" and d["manifest"]["format_version"] == 1
assert len(d["mappings"]) == 6
assert all(m["start"].startswith("0x") for m in d["mappings"])
assert sum(sum(m["bytes"][k] for k in ("data", "zero", "unpopulated", "excluded", "unreadable"))
           for m in d["mappings"]) == sum(int(m["end"], 16) - int(m["start"], 16) for m in d["mappings"])
assert [n["type"] for n in d["notes"]][:5] == [1, 3, 0x53494749, 6, 0x46494c45]
PY

# ---- verify (the fixture predates seals: intact, but said to be checked by CRCs only)
expect_rc 1 "$MEMLENS" core verify "$F"
grep -q ': ok: .*matches the manifest' "$T/out" || fail "verify: ok line"
grep -q 'not sealed' "$T/err" || fail "verify: an unsealed file is said to be"
cp "$F" "$T/bad.mlcore"
printf '\xff' | dd of="$T/bad.mlcore" bs=1 seek=5000 conv=notrunc status=none
expect_rc 2 "$MEMLENS" core verify "$T/bad.mlcore"
grep -q 'corrupt: chunk [0-9]* (0x' "$T/err" || fail "verify names the chunk: $(cat "$T/err")"
expect_rc 2 "$MEMLENS" core verify --json "$T/bad.mlcore"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert not d["ok"] and "chunk" in d["error"]' "$T/out" \
	|| fail "verify --json on a corrupt file"
head -c 30000 "$F" >"$T/short.mlcore"
expect_rc 2 "$MEMLENS" core verify "$T/short.mlcore"
grep -q 'not a valid snapshot' "$T/err" || fail "truncated file"
expect_rc 2 "$MEMLENS" core info /etc/passwd
grep -q 'not a valid snapshot' "$T/err" || fail "not a snapshot"
# every command that takes a source says what is wrong with a bad snapshot, naming the file
for c in maps info pagemap "read --raw" "grep -F abc"; do
	expect_rc 2 "$MEMLENS" $c "$T/short.mlcore" $([ "$c" = "read --raw" ] && echo 0x1000 16)
	grep -q "^memlens: $T/short.mlcore: not a valid snapshot or core: .*trunc" "$T/err" \
		|| fail "$c on a truncated snapshot: $(cat "$T/err")"
	expect_rc 2 "$MEMLENS" $c /etc/passwd $([ "$c" = "read --raw" ] && echo 0x1000 16)
	grep -q "^memlens: /etc/passwd: not a valid snapshot or core: not an ELF file" "$T/err" \
		|| fail "$c on a non-snapshot: $(cat "$T/err")"
done

# ---- expand: deterministic, sparse, what readelf and elfutils expect
expect_rc 0 "$MEMLENS" core expand "$F" -o "$T/a.core"
expect_rc 0 "$MEMLENS" core expand "$F" -o "$T/b.core"
cmp -s "$T/a.core" "$T/b.core" || fail "expand is not deterministic"
[ "$(stat -c %a "$T/a.core")" = 600 ] || fail "core mode"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifest"]["expanded_sha256"])' <("$MEMLENS" core info --json "$F"))
[ "$(sha256sum <"$T/a.core" | cut -c1-64)" = "$want" ] || fail "sha256 of the expanded core"
"$MEMLENS" core expand "$F" -o - | cmp -s - "$T/a.core" || fail "expand to a pipe"
expect_rc 2 "$MEMLENS" core expand "$F" -o "$T/a.core"
grep -q 'exists' "$T/err" || fail "existing output"
expect_rc 0 "$MEMLENS" core expand -f "$F" -o "$T/a.core"
ln -s "$T/victim" "$T/link.core"
expect_rc 2 "$MEMLENS" core expand -f "$F" -o "$T/link.core"
grep -q 'symbolic link' "$T/err" || fail "symlink output"
[ ! -e "$T/victim" ] || fail "wrote through a symlink"
expect_rc 2 "$MEMLENS" core expand "$T/bad.mlcore" -o "$T/bad.core"
[ ! -e "$T/bad.core" ] || fail "a corrupt snapshot left an output"

if command -v readelf >/dev/null; then
	for f in "$F" "$T/a.core"; do
		readelf -n "$f" >"$T/out" 2>"$T/err" || fail "readelf -n $f"
		grep -qi 'warning\|error' "$T/err" && fail "readelf -n complains: $(cat "$T/err")"
		[ "$(grep -c 'NT_PRSTATUS' "$T/out")" = 2 ] || fail "readelf -n: two NT_PRSTATUS in $f"
		grep -q NT_AUXV "$T/out" || fail "readelf -n: NT_AUXV"
	done
	readelf -l "$F" | grep -q ' LOAD ' && fail "the snapshot must have no PT_LOAD"
fi
if command -v eu-readelf >/dev/null; then
	for f in "$F" "$T/a.core"; do
		eu-readelf -n "$f" >"$T/out" 2>"$T/err" || fail "eu-readelf -n $f"
		[ -s "$T/err" ] && fail "eu-readelf -n complains: $(cat "$T/err")"
		grep -q '1 files:' "$T/out" || fail "eu-readelf -n decodes NT_FILE"
	done
	[ "$(eu-readelf -l "$T/a.core" | grep -c '^  LOAD')" = 6 ] || fail "eu-readelf -l: 6 PT_LOAD"
	eu-readelf -l "$T/a.core" | grep '^  LOAD' | awk '{print $5}' | grep -qx 0x000000 \
		|| fail "an excluded mapping has p_filesz 0"
else
	ml_not_run "eu-readelf not installed, elfutils checks skipped"
fi

# ---- export: zcat gives the core
expect_rc 0 "$MEMLENS" core export "$F" -o "$T/a.core.gz" --member-size 16K
gzip -t "$T/a.core.gz" || fail "gzip -t"
zcat "$T/a.core.gz" | cmp -s - "$T/a.core" || fail "zcat of the export is not the core"
"$MEMLENS" core export "$F" -o - | zcat | cmp -s - "$T/a.core" || fail "export to a pipe"

# ---- the export opens as a source: reads equal the snapshot's, maps and pagemap list it
ranges="555500000000-55550000a000 555500019000-55550001e000 555500020000-555500027000
	555500029000-555500031000 555500032000-55550003b000 555500001234-555500005678 555500032fff-555500033001"
same=0
for r in $ranges; do
	# the same bytes and the same exit status (1 where raw bytes stop before what was not captured)
	"$MEMLENS" read --raw "$F" "$r" >"$T/want" 2>/dev/null
	want_rc=$?
	[ $want_rc = 2 ] && continue
	expect_rc $want_rc "$MEMLENS" read --raw "$T/a.core.gz" "$r"
	cmp -s "$T/out" "$T/want" || fail "read $r of the export differs from the snapshot's"
	same=$((same + 1))
done
[ "$same" -ge 6 ] || fail "only $same ranges compared"
expect_rc 0 "$MEMLENS" read "$T/a.core.gz" 0x555500000100 64
"$MEMLENS" read "$F" 0x555500000100 64 | cmp -s - "$T/out" || fail "hexdump of the export differs"
# an unreadable range is zeros in the core (the kernel's layout has no other way to say it)
expect_rc 0 "$MEMLENS" read --raw "$T/a.core.gz" 55550000c000-55550000d000
head -c 4096 /dev/zero | cmp -s - "$T/out" || fail "unreadable range of the export"
expect_rc 2 "$MEMLENS" read "$T/a.core.gz" 0x1000 16
# maps: the six mappings (no smaps in a core: exit 1, saying so)
expect_rc 1 "$MEMLENS" maps "$T/a.core.gz"
[ "$(grep -c '^5555' "$T/out")" = 6 ] || fail "maps of the export: 6 mappings"
grep -q '^555500032000-55550003b000 rwxp' "$T/out" || fail "maps of the export: bounds and permissions"
grep -q 'no smaps' "$T/err" || fail "maps of the export: says what it cannot show"
expect_rc 0 "$MEMLENS" pagemap "$T/a.core.gz"
[ "$(grep -c '^5555' "$T/out")" = 6 ] || fail "pagemap of the export"
# damaged: a flipped byte inside the second member's data, and a truncated copy
python3 - "$T/a.core.gz" "$T/bad.gz" "$T/short.gz" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
m1 = struct.unpack_from('<I', d, 16)[0]
open(sys.argv[3], 'wb').write(d[:len(d) - 3])
big, best, p = 0, 0, 0
while p < len(d):          # the largest member: stored data, a flip always shows
	n = struct.unpack_from('<I', d, p + 16)[0]
	if n > best: big, best = p, n
	p += n
d[big + 48 + (best - 56) // 2] ^= 0x10
open(sys.argv[2], 'wb').write(d)
PY
bad=0
for r in $ranges; do
	"$MEMLENS" read --raw "$T/bad.gz" "$r" >/dev/null 2>"$T/err"
	rc=$?
	# 1: the good prefix, then the damaged member is named (or raw bytes stop before what
	# was not captured, as on the good export)
	[ $rc = 0 ] || [ $rc = 2 ] || { [ $rc = 1 ] && grep -q 'corrupt data: gzip member\|not available (not captured)' "$T/err"; } \
		|| fail "read of a damaged export: exit $rc: $(cat "$T/err")"
	{ [ $rc = 2 ] || grep -q 'corrupt data' "$T/err"; } && bad=$((bad + 1))
done
[ "$bad" -ge 1 ] || fail "a damaged export read without error"
expect_rc 2 "$MEMLENS" maps "$T/short.gz"

# ---- usage
expect_rc 64 "$MEMLENS" core
expect_rc 64 "$MEMLENS" core frobnicate "$F"
expect_rc 64 "$MEMLENS" core expand "$F"
expect_rc 64 "$MEMLENS" core info
expect_rc 64 "$MEMLENS" core export "$F" -o x.gz --level 12
expect_rc 0 "$MEMLENS" core --help
expect_rc 0 "$MEMLENS" core expand --help
grep -q 'usage: memlens core expand' "$T/out" || fail "help text"
echo "ok"
ml_done
