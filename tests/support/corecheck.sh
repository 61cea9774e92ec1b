# Checks an ELF core (plain or compressed) of the ml_dumpee child against what the child said
# about itself (sourced by tests/cli/core_*.sh). Needs M, bad(), and:
#   CPID  the child's PID          RS  address of its "runtime-string-PID"
#   HS    address of "heap-string-PID-ok"     NTHREADS  its thread count
# check_core FILE LABEL
check_core() {
	local f=$1 what=$2 out rc
	# grep finds both strings at their addresses
	"$M" grep --json -F -e "runtime-string-$CPID" -e "heap-string-$CPID-ok" "$f" >"$T/hits" 2>"$T/err"; rc=$?
	[ $rc -eq 0 ] || bad "$what: grep exit $rc: $(cat "$T/err")"
	python3 - "$RS" "$HS" "$T/hits" <<'PY' || bad "$what: grep did not find the strings at their addresses"
import json, sys
rs, hs = int(sys.argv[1], 16), int(sys.argv[2], 16)
hits = [json.loads(l) for l in open(sys.argv[3]) if '"type":"match"' in l]
addrs = {int(h["address"], 16) for h in hits}
sys.exit(0 if rs in addrs and hs in addrs else 1)
PY
	# read returns the bytes
	local want="runtime-string-$CPID"
	out=$("$M" read --raw "$f" "$RS" ${#want} 2>"$T/err"); rc=$?
	[ $rc -eq 0 ] || bad "$what: read exit $rc: $(cat "$T/err")"
	[ "$out" = "$want" ] || bad "$what: read gave '$out'"
	# maps names the executable's mappings from NT_FILE
	"$M" maps "$f" >"$T/maps" 2>"$T/err"; rc=$?
	[ $rc -eq 0 ] || bad "$what: maps exit $rc: $(cat "$T/err")"
	grep -q " /.*/ml_dumpee$" "$T/maps" || bad "$what: maps does not name ml_dumpee: $(head -5 "$T/maps")"
	grep -q "libc.so" "$T/maps" || bad "$what: maps does not name libc"
	# info: pid, comm, threads from the notes
	"$M" info --json "$f" >"$T/info" 2>"$T/err"; rc=$?
	[ $rc -eq 0 ] || bad "$what: info exit $rc: $(cat "$T/err")"
	python3 - "$CPID" "$NTHREADS" "$T/info" <<'PY' || bad "$what: info: $(cat "$T/info")"
import json, sys
d = json.load(open(sys.argv[3]))
c = d["core"]
assert d["pid"] == int(sys.argv[1]), d["pid"]
assert c["comm"] == "ml_dumpee", c["comm"]
assert c["thread_count"] == int(sys.argv[2]), c["thread_count"]
assert int(sys.argv[1]) in [t["tid"] for t in c["threads"]]
PY
	# pagemap counts it like a snapshot
	"$M" pagemap "$f" >"$T/pm" 2>"$T/err"; rc=$?
	[ $rc -eq 0 ] || bad "$what: pagemap exit $rc: $(cat "$T/err")"
	grep -q "^total" "$T/pm" || bad "$what: pagemap has no total"
}

# compress_all FILE: FILE.zst, FILE.lz4, FILE.xz, FILE.gz next to it
compress_all() {
	zstd -q -1 -f "$1" -o "$1.zst" && lz4 -q -1 -f "$1" "$1.lz4" && xz -0 -k -f -T1 "$1" && gzip -1 -k -f "$1"
}
