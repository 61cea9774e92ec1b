#!/bin/bash
# memlens dump from the command line: output rules, error messages and exit codes, a killed dumper, a full disk.
set -u
. "$ML_SOURCE_DIR/tests/support/cli.sh"
M=${MEMLENS:?}
H=${ML_HELPERS:?}
T=$(mktemp -d)
fail=0
CHILD=
cleanup() {
	[ -n "$CHILD" ] && kill -9 "$CHILD" 2>/dev/null
	umount "$T/small" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
bad() { echo "FAIL: $*"; fail=1; }

# The test child, driven over two pipes like the C suites do.
mkfifo "$T/in" "$T/out"
"$H/ml_dumpee" <"$T/in" >"$T/out" &
CHILD=$!
exec 7>"$T/in" 8<"$T/out"
read -r ready <&8
send() { echo "$*" >&7; read -r REPLY <&8; }
send setup
send threads 2

# Without the snapshot writer in this build nothing can be captured.
out=$("$M" dump "$CHILD" -o "$T/probe.mlcore" 2>&1)
if [ $? -ne 0 ] && grep -q "no snapshot writer" <<<"$out"; then
	echo "SKIP: this build has no snapshot writer yet"
	exit 77
fi
[ -f "$T/probe.mlcore" ] || bad "first dump wrote nothing: $out"
grep -q "threads" <<<"$out" || bad "no summary line: $out"
[ "$(stat -c %a "$T/probe.mlcore")" = 600 ] || bad "mode is not 0600"

# Output exists: refused (exit 2), untouched; --force replaces it.
before=$(stat -c %Y.%i "$T/probe.mlcore")
out=$("$M" dump "$CHILD" -o "$T/probe.mlcore" 2>&1); rc=$?
[ $rc -eq 2 ] || bad "existing output: exit $rc"
grep -q "already exists (use --force" <<<"$out" || bad "existing output message: $out"
[ "$(stat -c %Y.%i "$T/probe.mlcore")" = "$before" ] || bad "existing output was touched"
"$M" dump "$CHILD" -o "$T/probe.mlcore" --force -q || bad "--force failed"

# Output is a symlink: refused even with --force, its target never created.
ln -s "$T/victim" "$T/link.mlcore"
out=$("$M" dump "$CHILD" -o "$T/link.mlcore" --force 2>&1); rc=$?
[ $rc -eq 2 ] || bad "symlink output: exit $rc"
grep -q "symbolic link" <<<"$out" || bad "symlink message: $out"
[ -e "$T/victim" ] && bad "wrote through the symlink"

# No such process.
out=$("$M" dump 1073741800 -o "$T/none.mlcore" 2>&1); rc=$?
[ $rc -eq 2 ] || bad "no such process: exit $rc"
grep -q "pid 1073741800: .*no such process" <<<"$out" || bad "no such process message: $out"
[ -e "$T/none.mlcore" ] && bad "file left for a missing process"

# Usage errors.
"$M" dump 2>/dev/null; [ $? -eq 64 ] || bad "no PID: not a usage error"
"$M" dump --freeze=sigstop "$CHILD" 2>/dev/null; [ $? -eq 64 ] || bad "bad --freeze: not a usage error"
"$M" dump /etc/hostname 2>/dev/null; [ $? -eq 64 ] || bad "file argument: not a usage error"
# a word that is no PID is a process name (exact comm): none has this one
err=$("$M" dump some-file.mlcore 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "no process has that name" <<<"$err" || bad "unknown name: exit $rc: $err"
"$M" dump --codec=lzma "$CHILD" 2>/dev/null; [ $? -eq 64 ] || bad "bad --codec: not a usage error"
out=$("$M" dump --codec=zlib --level=10 "$CHILD" -o "$T/lvl.mlcore" 2>&1); rc=$?
[ $rc -eq 64 ] && grep -q "1-9 with --codec=zlib" <<<"$out" || bad "zlib level 10: exit $rc: $out"
"$M" dump --level=13 "$CHILD" -o "$T/lvl.mlcore" 2>/dev/null; [ $? -eq 64 ] || bad "lz4 level 13: not a usage error"
"$M" dump --codec=zstd --level=23 "$CHILD" -o "$T/lvl.mlcore" 2>/dev/null; [ $? -eq 64 ] || bad "zstd level 23: not a usage error"
[ -e "$T/lvl.mlcore" ] && bad "file left after a usage error"

# Each codec: the manifest names it, the summary too, and every codec gives the same memory.
for c in lz4 zstd zlib; do
	"$M" dump "$CHILD" --codec=$c --level=2 -o "$T/codec-$c.mlcore" --json >"$T/codec-$c.json" || bad "--codec=$c failed"
	grep -q "\"codec\":\"$c\"" "$T/codec-$c.json" || bad "--codec=$c: summary: $(cat "$T/codec-$c.json")"
	info=$("$M" core info "$T/codec-$c.mlcore") || bad "core info of a $c snapshot failed"
	grep -q "$c" <<<"$info" || bad "core info does not name $c: $info"
	"$M" core verify "$T/codec-$c.mlcore" >/dev/null || bad "core verify of a $c snapshot failed"
done

# --compress: auto by default, always once a codec or level is asked for; never stores every
# chunk raw; the summary and the manifest say which, and each reads back the same memory.
"$M" dump --compress=sometimes "$CHILD" -o "$T/cp.mlcore" 2>/dev/null; [ $? -eq 64 ] || bad "bad --compress: not a usage error"
out=$("$M" dump --compress=never --format=elf "$CHILD" -o "$T/cp.core" 2>&1); rc=$?
[ $rc -eq 64 ] && grep -q "applies to --format=mlcore" <<<"$out" || bad "--compress with elf: exit $rc: $out"
[ -e "$T/cp.mlcore" ] || [ -e "$T/cp.core" ] && bad "file left after a --compress usage error"
for w in default auto always never level; do
	case $w in default) args=();; level) args=(--level=1);; *) args=(--compress=$w);; esac
	"$M" dump "$CHILD" "${args[@]}" -o "$T/cp-$w.mlcore" --json >"$T/cp-$w.json" || bad "--compress $w failed"
	"$M" core verify "$T/cp-$w.mlcore" >/dev/null || bad "core verify of --compress $w failed"
	"$M" core info --json "$T/cp-$w.mlcore" >"$T/cp-$w.info" || bad "core info of --compress $w failed"
	python3 - "$T/cp-$w.json" "$T/cp-$w.info" "$w" <<'PY' || bad "--compress $w: summary or manifest"
import json, sys
d, info, w = json.load(open(sys.argv[1])), open(sys.argv[2]).read(), sys.argv[3]
want = {"default": "auto", "level": "always"}.get(w, w)
assert d["compress"] == want, d
assert d["chunks"] > 0 and 0 <= d["raw_to_keep_up"] <= d["raw_chunks"] <= d["chunks"], d
if want == "never":
    assert d["raw_chunks"] == d["chunks"] and d["raw_to_keep_up"] == 0, d
if want == "always":
    assert d["raw_to_keep_up"] == 0, d
# the manifest keeps the policy and the same counts
assert '"compress": "%s"' % want in info or '"compress":"%s"' % want in info, info
PY
done
# --no-digest: no SHA-256 of the expanded core in the manifest; without it, a small core has one
"$M" dump "$CHILD" --no-digest -o "$T/nodigest.mlcore" -q || bad "--no-digest failed"
"$M" core info "$T/nodigest.mlcore" | grep -q "SHA-256 not recorded" || bad "--no-digest: a digest was recorded"
"$M" core info "$T/cp-default.mlcore" | grep -qE "SHA-256 [0-9a-f]{64}" || bad "the default dump recorded no digest"
"$M" core verify "$T/nodigest.mlcore" >/dev/null || bad "core verify of a --no-digest snapshot failed"

# the child's first writable mapping (its data; a sanitizer build has no [heap])
rw=$(awk '$2 ~ /^rw/ {print $1; exit}' "/proc/$CHILD/maps" | cut -d- -f1)
"$M" read "$T/cp-never.mlcore" "$rw" 4096 >"$T/cp-never.hex" || bad "read of $rw from --compress=never failed"
"$M" read "$T/cp-always.mlcore" "$rw" 4096 >"$T/cp-always.hex" || bad "read of $rw from --compress=always failed"
[ -s "$T/cp-never.hex" ] && cmp -s "$T/cp-never.hex" "$T/cp-always.hex" ||
	bad "--compress=never and always read back different bytes at $rw"

# --freeze=auto: copy-on-write where the process can fork, the ptrace freeze with a reason elsewhere.
"$M" dump "$CHILD" --freeze=auto --json -o "$T/auto.mlcore" >"$T/auto.json" || bad "dump --freeze=auto failed"
python3 - "$T/auto.json" <<'PY' || bad "json summary of --freeze=auto"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["threads"] == 3 and not d["smeared"], d
assert d["freeze"] == "cow" or (d["freeze"] == "ptrace" and d.get("why_not_cow")), d
if d["freeze"] == "cow":
    assert d["bytes_held"] >= 0 and d["bytes_copied"] >= 0 and d["cow_headroom"] > 0, d
PY
"$M" core verify "$T/auto.mlcore" >/dev/null || bad "core verify of a --freeze=auto snapshot failed"

# JSON summary and the default name.
(cd "$T" && "$M" dump "$CHILD" --json >"$T/sum.json") || bad "json dump failed"
python3 - "$T/sum.json" "$CHILD" "$T" <<'PY' || bad "json summary"
import json, os, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "memlens.dump/1", d
assert d["pid"] == int(sys.argv[2])
# The default is the ptrace freeze.
assert d["threads"] == 3 and not d["smeared"], d
assert d["freeze"] == "ptrace" and not d.get("why_not_cow"), d
assert d["bytes_data"] > 0 and d["file_size"] > 0 and d["stop_ns"] > 0, d
name = d["file"]
assert name.startswith("memlens-%s-" % sys.argv[2]) and name.endswith(".mlcore"), name
assert os.path.exists(os.path.join(sys.argv[3], name))
PY

# --freeze=ptrace holds it for the whole read, and says so.
"$M" dump "$CHILD" --freeze=ptrace --json -o "$T/pt.mlcore" >"$T/pt.json" || bad "--freeze=ptrace failed"
grep -q '"freeze":"ptrace"' "$T/pt.json" || bad "--freeze=ptrace summary: $(cat "$T/pt.json")"
"$M" dump "$CHILD" --freeze=bogus -o "$T/bogus.mlcore" 2>"$T/bogus.err"; [ $? -eq 64 ] || bad "--freeze=bogus is not a usage error"
grep -q "auto, cow, ptrace or none" "$T/bogus.err" || bad "--freeze=bogus: $(cat "$T/bogus.err")"

# --freeze=none says it is smeared.
"$M" dump "$CHILD" --freeze=none -o "$T/smear.mlcore" >"$T/smear.txt" || bad "--freeze=none failed"
grep -q "smeared" "$T/smear.txt" || bad "--freeze=none summary does not say smeared"

# The summary's captured bytes add up, unreadable ones (such as [vvar]'s pages) included and named.
out=$("$M" dump "$CHILD" --bytes -o "$T/unr.mlcore" 2>&1) || bad "dump for the byte counts failed: $out"
unr=$(python3 - "$out" <<'PY'
import re, sys
m = re.search(r"; (\d+) captured \((\d+) data, (\d+) zero/unpopulated(?:, (\d+) unreadable)?\)", sys.argv[1])
cap, data, zero, unr = (int(x or 0) for x in m.groups()) if m else (0, 0, 0, -1)
print(unr if m and cap == data + zero + unr else "bad")
PY
)
case $unr in
bad) bad "summary: the captured bytes do not add up: $out" ;;
0) ml_not_run "no unreadable bytes in the child (no [vvar] pages that cannot be read): unreadable count not seen" ;;
esac

# Permission: an unprivileged user may not capture root's process, and is told why.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	ml_nobody_stage || bad "cannot stage memlens for an unprivileged user"
	# an output directory the other user can reach and write (under /tmp, as the staged
	# binaries: TMPDIR may be private to us): only ptrace is denied
	mkdir "$NB_DIR/pub" && chmod 1777 "$NB_DIR/pub"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"${NB_MEMLENS[@]}" dump "$CHILD" -o "$NB_DIR/pub/x.mlcore" 2>&1); rc=$?
	left=$(ls -A "$NB_DIR/pub")
	ml_nobody_clean
	[ $rc -eq 2 ] || bad "unprivileged dump: exit $rc ($out)"
	grep -q "CAP_SYS_PTRACE" <<<"$out" || bad "permission message does not name the privilege: $out"
	[ -z "$left" ] || bad "unprivileged dump left a file: $left"
else
	ml_not_run "not root or no setpriv: permission case not run"
fi

# memlens killed while it holds the target: the child runs on; nothing that looks complete is left.
send map_touch 0x20000000 4096
mkdir "$T/kill"
mkfifo "$T/prog"
"$M" dump "$CHILD" -o "$T/kill/k.mlcore" --progress 2>"$T/prog" >/dev/null &
DUMPER=$!
exec 9<"$T/prog"
read -r -N 16 -u 9 _ # the first progress line: it is reading
kill -9 "$DUMPER"
wait "$DUMPER" 2>/dev/null || true
exec 9<&-
send pid
[ "$REPLY" = "ok pid=$CHILD" ] || bad "child did not answer after the dumper was killed: $REPLY"
state=$(awk '{print $3}' "/proc/$CHILD/stat")
[ "$state" != t ] && [ "$state" != T ] || bad "child left stopped ($state)"
[ -z "$(ls -A "$T/kill")" ] || bad "killed dump left: $(ls -A "$T/kill")"
send stats
grep -q "eintr=0 cont=0" <<<"$REPLY" || bad "child saw EINTR or SIGCONT: $REPLY"

# stderr that takes no more (a paused terminal, a pipe nobody reads) while the target is held:
# the progress line is dropped, never waited for with the target stopped. The pipe is filled
# before memlens starts; memlens then blocks in its first write after the release, and the
# child must be running at that moment. Then the pipe is drained and the dump completes.
send "map_fill 0x4000000"
/usr/bin/python3 - "$M" "$CHILD" "$T/blocked.mlcore" <<'PY' || bad "a full stderr kept the target stopped"
import fcntl, os, subprocess, sys, time
ml, child, out = sys.argv[1], sys.argv[2], sys.argv[3]
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ: one page
fill = os.open("/proc/self/fd/%d" % w, os.O_WRONLY | os.O_NONBLOCK)  # a description of its own
try:
    while True:
        os.write(fill, b"x" * 512)
except BlockingIOError:
    pass
os.close(fill)
p = subprocess.Popen([ml, "dump", "--progress", "--freeze=ptrace", "-o", out, child],
                     stdout=subprocess.DEVNULL, stderr=w)
os.close(w)
def states():
    st = {}
    for t in os.listdir("/proc/%s/task" % child):
        try:
            st[t] = open("/proc/%s/task/%s/stat" % (child, t)).read().rsplit(")", 1)[1].split()[0]
        except OSError:
            pass
    return st
blocked = False
for _ in range(6000):  # up to 60 s for memlens to block or finish
    if p.poll() is not None:
        break
    # a thread of memlens blocked in write(2, ...): its syscall file says "1 0x2 ..." only
    # while it sleeps in the call (wchan names need kallsyms, which a kernel may lack)
    writing = False
    try:
        for t in os.listdir("/proc/%d/task" % p.pid):
            try:
                writing |= open("/proc/%d/task/%s/syscall" % (p.pid, t)).read().split()[:2] == ["1", "0x2"]
            except OSError:
                pass
    except OSError:
        pass
    if writing:
        blocked = True
        st = states()
        if any(s in ("t", "T") for s in st.values()):
            print("memlens is blocked writing stderr with the target stopped: %s" % st)
            p.kill(); sys.exit(1)
        break
    time.sleep(0.01)
if not blocked and p.poll() is None:
    print("memlens neither blocked nor finished"); p.kill(); sys.exit(1)
while os.read(r, 65536):  # drain until memlens exits and closes its end
    pass
rc = p.wait()
if rc != 0:
    print("dump exit %d after the pipe was drained" % rc); sys.exit(1)
PY
"$M" core verify "$T/blocked.mlcore" >/dev/null || bad "the dump with a blocked stderr does not verify"
rm -f "$T/blocked.mlcore"

# A full disk: a clean error, nothing left behind (needs a private mount).
mkdir "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	# 4 MiB of data, so that the data itself, not only the headers, hits the limit
	send "map_fill 0x400000"
	out=$("$M" dump "$CHILD" --format=elf -o "$T/small/full.core" 2>&1); rc=$?
	[ $rc -eq 2 ] || bad "full disk: exit $rc ($out)"
	grep -qi "no space" <<<"$out" || bad "full disk message: $out"
	[ -z "$(ls -A "$T/small")" ] || bad "full disk left: $(ls -A "$T/small")"
	send pid
	[ "$REPLY" = "ok pid=$CHILD" ] || bad "child did not survive the full-disk dump"
	umount "$T/small"
else
	ml_not_run "cannot mount a small tmpfs here: full-disk case not run"
fi

send "exit 0"
wait "$CHILD" 2>/dev/null
CHILD=
[ $fail -eq 0 ] && echo "dump CLI: all checks passed"
ml_done $fail
