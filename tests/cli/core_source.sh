#!/bin/bash
# ELF cores as sources: gdb's gcore, memlens's `core expand` and `dump --format=elf`, each plain and zstd/LZ4/xz/gzip-compressed, read by maps, pagemap, read, grep and info; broken cores.
set -u
M=${MEMLENS:?}
H=${ML_HELPERS:?}
T=$(mktemp -d)
fail=0
CHILD=
cleanup() {
	[ -n "$CHILD" ] && kill -9 "$CHILD" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
bad() { echo "FAIL: $*"; fail=1; }
. "$(dirname "$0")/../support/corecheck.sh"
for t in gcore zstd lz4 xz gzip; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done

mkfifo "$T/in" "$T/out"
"$H/ml_dumpee" <"$T/in" >"$T/out" &
CHILD=$!
exec 7>"$T/in" 8<"$T/out"
read -r ready <&8
# gcore writes out every mapping it can read, AddressSanitizer's terabytes of shadow memory
# included (77 GB were written before the disk filled): not in a sanitizer build.
if grep -q 'libasan\|libtsan\|libmsan' "/proc/$CHILD/maps"; then
	echo "SKIP: the test child is built with a sanitizer, whose shadow memory gcore would write out whole"
	exit 77
fi
send() { echo "$*" >&7; read -r REPLY <&8; }
send setup
RS=$(sed -n 's/.* runtime_str=\(0x[0-9a-f]*\).*/\1/p' <<<"$REPLY")
HS=$(sed -n 's/.* heap_str=\(0x[0-9a-f]*\).*/\1/p' <<<"$REPLY")
send threads 2
CPID=$CHILD
NTHREADS=3

# memlens's own: a snapshot expanded, and the raw ELF written by dump
"$M" dump -q "$CHILD" -o "$T/s.mlcore" || bad "dump"
"$M" core expand "$T/s.mlcore" -o "$T/expand.core" || bad "expand"
"$M" dump -q --format=elf "$CHILD" -o "$T/elf.core" || bad "dump --format=elf"
gcore -o "$T/g" "$CHILD" >/dev/null 2>&1 || bad "gcore failed"
mv "$T/g.$CHILD" "$T/gcore.core" 2>/dev/null || bad "gcore wrote no core"

# (dump --format=elf writes the layout expand does: its compressed copies add nothing)
check_core "$T/elf.core" elf
for c in expand gcore; do
	f=$T/$c.core
	check_core "$f" "$c"
	compress_all "$f" || bad "compressing $c"
	for z in zst lz4 xz gz; do
		check_core "$f.$z" "$c.$z"
	done
done
# told by magic bytes, not by name; the cost is said
for z in zst lz4 xz gz; do
	cp "$T/gcore.core.$z" "$T/noname"
	"$M" maps "$T/noname" >/dev/null 2>"$T/err" || bad "$z renamed: $(cat "$T/err")"
	grep -q "decompressed once into a temporary file" "$T/err" || bad "$z: no notice: $(cat "$T/err")"
done

# the expanded core and the snapshot read the same bytes over every mapping both hold whole
# (past p_filesz the core source stops where the snapshot says zeros; the snapshot's
# unreadable [vvar] and [vsyscall] are zeros in the kernel layout)
"$M" maps "$T/s.mlcore" 2>/dev/null | awk '$1 ~ /^[0-9a-f]+-[0-9a-f]+$/ {print $1}' | while IFS=- read -r a b; do
	"$M" read --raw "$T/expand.core" "0x$a-0x$b" >"$T/y" 2>/dev/null || continue
	"$M" read --raw "$T/s.mlcore" "0x$a-0x$b" >"$T/x" 2>/dev/null || continue
	x=$(sha256sum <"$T/x") y=$(sha256sum <"$T/y")
	echo compared >>"$T/compared"
	[ "$x" = "$y" ] || echo "differs at $a" >>"$T/diffs"
done
[ -s "$T/diffs" ] && bad "snapshot and expanded core differ: $(head -3 "$T/diffs")"
[ "$(wc -l <"$T/compared")" -ge 10 ] || bad "too few mappings compared"

# ---- core import: a snapshot whose expansion gives every segment's bytes back
cat >"$T/segs.py" <<'PY'
import struct, sys
def loads(p):
    d = open(p, "rb").read()
    phoff, = struct.unpack_from("<Q", d, 32); phnum, = struct.unpack_from("<H", d, 56)
    out = {}
    for i in range(phnum):
        t, fl, off, va, pa, fs, ms, al = struct.unpack_from("<IIQQQQQQ", d, phoff + i * 56)
        if t == 1 and ms:
            out[va] = (ms, fs, d[off:off + fs])
    return out
a, b = loads(sys.argv[1]), loads(sys.argv[2])
assert a.keys() == b.keys(), "segments %d vs %d" % (len(a), len(b))
bad = [hex(k) for k in a if a[k] != b[k]]
assert not bad, "differ: %s" % bad[:5]
assert sum(len(v[2]) for v in a.values()) > 1 << 20
PY
for c in gcore.core gcore.core.zst expand.core.xz; do
	"$M" core import "$T/$c" -o "$T/imp.mlcore" --force 2>"$T/err" || bad "import $c: $(cat "$T/err")"
	"$M" core verify "$T/imp.mlcore" >/dev/null 2>"$T/err" || bad "verify of imported $c: $(cat "$T/err")"
	"$M" core expand "$T/imp.mlcore" -o "$T/imp.core" --force 2>"$T/err" || bad "expand of imported $c: $(cat "$T/err")"
	python3 "$T/segs.py" "$T/${c%.*}" "$T/imp.core" 2>"$T/err" || python3 "$T/segs.py" "$T/$c" "$T/imp.core" 2>>"$T/err" \
		|| bad "imported $c does not expand to its memory: $(tail -1 "$T/err")"
	# the notes are kept: info and grep on the snapshot as on the core
	"$M" info --json "$T/imp.mlcore" >"$T/info" 2>/dev/null
	"$M" grep -c -F "runtime-string-$CPID" "$T/imp.mlcore" >/dev/null || bad "grep on imported $c"
	"$M" maps "$T/imp.mlcore" 2>/dev/null | grep -q " /.*/ml_dumpee$" || bad "maps of imported $c has no names"
done
# the manifest says what the core says, not what this machine is: its e_machine (an
# AArch64 core imported here stays AArch64), its page size (auxv), and no kernel it did not name
python3 - "$ML_SOURCE_DIR/tests/fuzz/corpus/elfcore/tiny.core" "$T/arm.core" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<H", d, 18, 183)  # EM_AARCH64
open(sys.argv[2], "wb").write(d)
PY
"$M" core import "$T/arm.core" -o "$T/arm.mlcore" 2>"$T/err" || bad "import of an AArch64 core: $(cat "$T/err")"
"$M" core info --json "$T/arm.mlcore" >"$T/arm.json" || bad "core info of the AArch64 import"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["manifest"]; sys.exit(0 if (m["machine"], m["kernel"], m["page_size"]) == ("aarch64", "unknown", 4096) else 1)' "$T/arm.json" \
	|| bad "imported manifest: $(cat "$T/arm.json")"
"$M" core expand "$T/arm.mlcore" -o "$T/arm2.core" 2>/dev/null || bad "expand of the AArch64 import"
[ "$(od -An -tu2 -j18 -N2 "$T/arm2.core" | tr -d ' ')" = 183 ] || bad "expanded AArch64 import is not EM_AARCH64"
# a core says nothing of how long its process was stopped: no stop time, none printed
python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["manifest"]; sys.exit(0 if m["freeze"] == "core" and "stop_ns" not in m else 1)' "$T/arm.json" \
	|| bad "imported manifest has a stop time: $(cat "$T/arm.json")"
"$M" core info "$T/arm.mlcore" >"$T/arm.txt" 2>&1 || bad "core info (text) of the AArch64 import"
grep -q "stopped" "$T/arm.txt" && bad "core info of an import prints a stop time: $(grep stopped "$T/arm.txt")"
# the output is checked before the core is read, with dump's and expand's messages
mkfifo "$T/imp.fifo"
for f in "" -f; do
	"$M" core import "$T/arm.core" -o "$T/imp.fifo" $f >/dev/null 2>"$T/err"; rc=$?
	[ $rc -eq 2 ] && grep -q "imp.fifo: is a FIFO" "$T/err" && ! grep -q -- "--force" "$T/err" \
		|| bad "import $f onto a FIFO: exit $rc: $(cat "$T/err")"
	[ -p "$T/imp.fifo" ] || bad "import $f replaced a FIFO"
done
"$M" core import "$T/arm.core" -o "$T/arm.mlcore" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "arm.mlcore: already exists (use --force" "$T/err" || bad "import onto a file: exit $rc: $(cat "$T/err")"
"$M" core import "$T/nonexistent.core" -o "$T/arm.mlcore" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "arm.mlcore: already exists" "$T/err" || bad "import onto a file is refused before the core is read: exit $rc: $(cat "$T/err")"
"$M" core import "$T/s.mlcore" -o "$T/again.mlcore" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "already a memlens snapshot" "$T/err" || bad "import of an mlcore: exit $rc: $(cat "$T/err")"

# ---- broken cores: one line naming the file and the cause, or a partial result (exit 1)
# gcore writes its notes last: cut off, they are an error
f=$T/gcore.core
notes=$(( $(readelf -lW "$f" | awk '$1 == "NOTE" {print $2}') ))
head -c $((notes + 16)) "$f" >"$T/gcut.core"
"$M" maps "$T/gcut.core" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^memlens: $T/gcut.core: .*notes .*truncated" "$T/err" \
	|| bad "gcore without its notes: exit $rc: $(cat "$T/err")"
# the kernel's layout has them first: the memory cut off is partial
f=$T/expand.core
size=$(stat -c %s "$f")
head -c $((size / 2)) "$f" >"$T/half.core"
"$M" maps "$T/half.core" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || bad "truncated core: maps exit $rc"
grep -q "^memlens: $T/half.core: partial: the file is truncated" "$T/err" || bad "truncated core message: $(cat "$T/err")"
# what is missing is not zeros
last=$("$M" maps "$T/half.core" 2>/dev/null | awk '$1 ~ /^[0-9a-f]+-[0-9a-f]+$/ {print $1}' | tail -1 | cut -d- -f1)
"$M" read --raw "$T/half.core" "0x$last" 16 >"$T/bytes" 2>"$T/err"; rc=$?
grep -q "truncated" "$T/err" || bad "read past the end: $(cat "$T/err")"
[ $rc -eq 2 ] && [ ! -s "$T/bytes" ] || bad "read past the end of a truncated core: exit $rc, $(wc -c <"$T/bytes") bytes"
head -c 100 "$f" >"$T/tiny.core"
"$M" maps "$T/tiny.core" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^memlens: $T/tiny.core: .*program header" "$T/err" \
	|| bad "headers cut off: exit $rc: $(cat "$T/err")"
head -c $(( $(stat -c %s "$f.zst") / 2 )) "$f.zst" >"$T/half.zst"
"$M" grep -c -F "no-such-string" "$T/half.zst" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || bad "truncated zstd: grep exit $rc"
grep -q "partial: zstd-compressed: the zstd stream is cut short" "$T/err" || bad "truncated zstd message: $(cat "$T/err")"
# overlapping segments: the second PT_LOAD moved onto the first
python3 - "$f" "$T/overlap.core" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
phoff, = struct.unpack_from("<Q", d, 32); phnum, = struct.unpack_from("<H", d, 56)
loads = [phoff + i * 56 for i in range(phnum) if struct.unpack_from("<I", d, phoff + i * 56)[0] == 1]
va, = struct.unpack_from("<Q", d, loads[0] + 16)
struct.pack_into("<Q", d, loads[1] + 16, va)
open(sys.argv[2], "wb").write(d)
PY
"$M" read "$T/overlap.core" "$RS" 16 >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "^memlens: $T/overlap.core: .*segments overlap" "$T/err" || bad "overlap: exit $rc: $(cat "$T/err")"
printf 'not a core at all' | zstd -q >"$T/junk.zst"
"$M" maps "$T/junk.zst" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "^memlens: $T/junk.zst: .*not an ELF" "$T/err" || bad "junk in zstd: exit $rc: $(cat "$T/err")"

exit $fail
