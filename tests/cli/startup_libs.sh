# The libraries only some commands need are loaded when they are needed, not at every start:
# the compression and ELF libraries (lib/internal/dl.c) when a snapshot or core is opened or
# written, PCRE2 and Vectorscan (tools/grep/dl.c) when grep compiles its patterns. Read off
# the dynamic loader's own trace (LD_DEBUG=files), which names every object it maps and
# whether it was needed at start-up or loaded by dlopen.
set -u
fail() { echo "FAIL: $*"; exit 1; }

coproc CH { exec "$ML_HELPERS/ml_child"; }
CHILD=$CH_PID
tmp=$(mktemp -d)
trap 'kill $CHILD 2>/dev/null; rm -rf "$tmp"' EXIT
read -r line <&"${CH[0]}"
PID=${line#ready pid=}

codecs='lib(z|lz4|zstd|lzma|elf)\.so'
engines='lib(pcre2-8|hs)\.so'

# trace FILE ARGS...: runs memlens with the loader's trace in FILE
trace() {
	local out=$1
	shift
	LD_DEBUG=files LD_DEBUG_OUTPUT="$tmp/ld" "$MEMLENS" "$@" >/dev/null 2>&1
	local rc=$?
	cat "$tmp"/ld.* >"$out" 2>/dev/null
	rm -f "$tmp"/ld.*
	[ -s "$out" ] || fail "no loader trace for memlens $* (LD_DEBUG unsupported?)"
	return $rc
}

# A trace this test cannot read would pass every "not loaded" check: the trace of --version
# must name the library every command needs.
trace "$tmp/version" --version || fail "memlens --version: exit $?"
grep -Eq 'file=libmemlens\.so[^ ]* .*needed by' "$tmp/version" || fail "the trace does not show libmemlens being loaded"

for args in "--version" "maps $PID" "pagemap --no-kpage $PID" "info $PID"; do
	# shellcheck disable=SC2086
	trace "$tmp/t" $args || fail "memlens $args: exit $?"
	if grep -Eq "file=($codecs|$engines)" "$tmp/t"; then
		grep -E "file=($codecs|$engines)" "$tmp/t" | head -n 5
		fail "memlens $args loaded a library it does not need"
	fi
done

# a snapshot: written by dump, then read; each loads the five codec libraries by dlopen and
# none of them is linked to memlens or libmemlens
trace "$tmp/dump" dump -q -o "$tmp/c.mlcore" "$PID" || fail "dump: exit $?"
trace "$tmp/read" maps "$tmp/c.mlcore" || fail "maps of the snapshot: exit $?"
for t in dump read; do
	for lib in libz libzstd liblz4 liblzma libelf; do
		grep -Eq "file=$lib\.so[^ ]* .*dynamically loaded by" "$tmp/$t" ||
			fail "$t: $lib was not loaded when the snapshot was $( [ $t = dump ] && echo written || echo read)"
	done
	if grep -E "file=($codecs)" "$tmp/$t" | grep -Eq 'needed by [^ ]*(memlens|libmemlens)'; then
		grep -E "file=($codecs)" "$tmp/$t" | head -n 5
		fail "$t: a codec library is linked to memlens"
	fi
	grep -Eq "file=($engines)" "$tmp/$t" && fail "$t loaded a search library"
done

# grep loads PCRE2 (and Vectorscan where built with it) only for a regular expression
trace "$tmp/grep" grep -c nosuchneedle-startup "$PID"
[ $? -le 1 ] || fail "grep of a literal: exit $?"
grep -Eq "file=($engines)" "$tmp/grep" && fail "grep of a literal loaded a search library"
trace "$tmp/grep" grep -c -E 'nosuch(needle)+-startup' "$PID"
[ $? -le 1 ] || fail "grep -E: exit $?"
grep -Eq 'file=libpcre2-8\.so[^ ]* .*dynamically loaded by' "$tmp/grep" || fail "grep did not load PCRE2"
echo "ok"
