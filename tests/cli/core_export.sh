#!/bin/bash
# A live process's snapshot, its expanded core and its gzip export (`core export`) read as sources: the export shows the mappings, names ([stack] included) and bytes its core shows, and only names the snapshot has.
set -u
M=${MEMLENS:?}
T=$(mktemp -d)
fail=0
CHILD=
cleanup() {
	[ -n "$CHILD" ] && kill -9 "$CHILD" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
bad() { echo "FAIL: $*"; fail=1; }

# An uninstrumented target (a sanitizer's shadow mappings would make the export huge) with
# threads, so that the stack named is the main thread's, not whichever thread comes first.
mkfifo "$T/ready"
python3 -c '
import sys, threading, time
for _ in range(2):
    threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
open(sys.argv[1], "w").write("ready\n")
time.sleep(600)' "$T/ready" &
CHILD=$!
disown
read -r _ <"$T/ready"
if ! "$M" dump -q -o "$T/s.mlcore" "$CHILD" 2>"$T/err"; then
	grep -q -i 'permission\|not permitted\|ptrace' "$T/err" && { echo "SKIP: cannot dump a child here: $(cat "$T/err")"; exit 77; }
	echo "FAIL: dump: $(cat "$T/err")"
	exit 1
fi
"$M" core expand -o "$T/s.core" "$T/s.mlcore" || bad "expand"
"$M" core export --member-size 64K -o "$T/s.gz" "$T/s.mlcore" || bad "export"
zcat "$T/s.gz" | cmp -s - "$T/s.core" || bad "zcat of the export is not the expanded core"

maps_of() { "$M" maps "$1" 2>/dev/null | awk '$1 ~ /^[0-9a-f]+-[0-9a-f]+$/'; }
names_of() { maps_of "$1" | awk '{ print $NF }' | sort -u; }
maps_of "$T/s.mlcore" >"$T/maps.snap"
maps_of "$T/s.core" >"$T/maps.core"
maps_of "$T/s.gz" >"$T/maps.gz"
[ "$(wc -l <"$T/maps.snap")" -ge 10 ] || bad "too few mappings in the snapshot: $(cat "$T/maps.snap")"

# The export is the expanded core, byte for byte: every mapping, its bounds, permissions and
# name the same, the whole table and as JSON
diff "$T/maps.core" "$T/maps.gz" >"$T/d" || bad "maps of the export and of its core differ: $(cat "$T/d")"
"$M" maps --json "$T/s.core" 2>/dev/null | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["mappings"]))' >"$T/j.core"
"$M" maps --json "$T/s.gz" 2>/dev/null | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["mappings"]))' >"$T/j.gz"
cmp -s "$T/j.core" "$T/j.gz" || bad "maps --json of the export and of its core differ"
comm -3 <(names_of "$T/s.core") <(names_of "$T/s.gz") >"$T/d"
[ -s "$T/d" ] && bad "names only in the core | only in the export: $(tr '\n\t' ' |' <"$T/d")"

# The process's stack is [stack] in all three, at the same place
stack=$(awk '$NF == "[stack]" { print $1 }' "$T/maps.snap")
[ -n "$stack" ] || bad "the snapshot has no [stack]"
for f in core gz; do
	[ "$(awk '$NF == "[stack]" { print $1 }' "$T/maps.$f")" = "$stack" ] \
		|| bad "$f: [stack] is not $stack: $(grep -F "${stack%%-*}" "$T/maps.$f")"
done
"$M" maps --json "$T/s.gz" 2>/dev/null | python3 -c '
import json, sys
m = [x for x in json.load(sys.stdin)["mappings"] if x["name"] == "[stack]"]
assert len(m) == 1 and m[0]["kind"] == "stack", m' || bad "maps --json of the export: [stack] is not kind stack"

# Every name the export shows is the snapshot's name for that mapping; the snapshot may name
# more only where the canonical notes cannot say it (section 8.1 of snapshot-format.md)
join -j1 <(awk '{ print $1, $NF }' "$T/maps.snap" | sort) <(awk '{ print $1, $NF }' "$T/maps.gz" | sort) >"$T/joined"
[ "$(wc -l <"$T/joined")" = "$(wc -l <"$T/maps.snap")" ] || bad "the export and the snapshot do not have the same mappings"
awk '$3 != "[anon]" && $2 != $3' "$T/joined" >"$T/wrong"
[ -s "$T/wrong" ] && bad "the export names a mapping otherwise than the snapshot: $(cat "$T/wrong")"
awk '$3 == "[anon]" && $2 != "[anon]" && $2 !~ /^\[(heap|vvar|vvar_vclock|vsyscall|anon:.*)\]$/' "$T/joined" >"$T/lost"
[ -s "$T/lost" ] && bad "the export loses names its notes hold: $(cat "$T/lost")"

# and reads the same bytes from the stack as the snapshot
"$M" read --raw "$T/s.mlcore" "0x${stack/-/-0x}" >"$T/x" 2>/dev/null
"$M" read --raw "$T/s.gz" "0x${stack/-/-0x}" >"$T/y" 2>/dev/null
[ -s "$T/x" ] && cmp -s "$T/x" "$T/y" || bad "the stack's bytes differ between the snapshot and the export"

exit $fail
