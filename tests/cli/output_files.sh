# Output paths of dump and core expand/export: only a regular file is ever replaced; every
# refusal names the file and the real cause; bad names are usage errors.
set -u
fail() { echo "FAIL: $*"; exit 1; }
M=${MEMLENS:?}
source "$ML_SOURCE_DIR/tests/support/cli.sh"

T=$(mktemp -d)
chmod 755 "$T"
sleep 1000 &
SP=$!
ml_exec_done $SP sleep || fail "setup: sleep"
trap 'kill $SP 2>/dev/null; rm -rf "$T"; ml_nobody_clean' EXIT
"$M" dump -q -o "$T/s.mlcore" "$SP" || fail "setup: dump exit $?"

# expect RC PATTERN command...: exit code and a stderr line matching PATTERN
expect() {
	local want=$1 pat=$2 err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq "$want" ] || fail "$*: exit $rc, want $want ($err)"
	grep -qE -- "$pat" <<<"$err" || fail "$*: stderr does not say /$pat/: $err"
	LAST_ERR=$err
}

# A device node and a FIFO survive --force (dump and core expand/export -f).
if mknod "$T/mynull" c 1 3 2>/dev/null; then
	expect 2 "mynull: is a character device" "$M" dump -q --force -o "$T/mynull" "$SP"
	[ -c "$T/mynull" ] || fail "dump --force replaced a device node"
	expect 2 "mynull: is a character device" "$M" core expand -f -o "$T/mynull" "$T/s.mlcore"
	expect 2 "mynull: is a character device" "$M" core export -f -o "$T/mynull" "$T/s.mlcore"
	[ -c "$T/mynull" ] || fail "core expand -f replaced a device node"
	grep -q -- "--force" <<<"$LAST_ERR" && fail "suggests --force for a device: $LAST_ERR"
else
	ml_not_run "mknod not permitted here; device case left to /dev/null below"
fi
mkfifo "$T/fifo"
expect 2 "fifo: is a FIFO" "$M" dump -q --force -o "$T/fifo" "$SP"
[ -p "$T/fifo" ] || fail "dump --force replaced a FIFO"
expect 2 "fifo: is a FIFO" "$M" core expand -f -o "$T/fifo" "$T/s.mlcore"
[ -p "$T/fifo" ] || fail "core expand -f replaced a FIFO"

# /dev/null without --force: refused, and --force is not suggested
expect 2 "/dev/null: is a character device" "$M" dump -q -o /dev/null "$SP"
grep -q -- "--force" <<<"$LAST_ERR" && fail "suggests --force for /dev/null: $LAST_ERR"

# A directory: named as such, no --force suggestion
mkdir "$T/dir"
expect 2 "dir: is a directory" "$M" dump -q -o "$T/dir" "$SP"
grep -q -- "--force" <<<"$LAST_ERR" && fail "suggests --force for a directory: $LAST_ERR"
expect 2 "dir: is a directory" "$M" dump -q --force -o "$T/dir" "$SP"
expect 2 "dir: is a directory" "$M" core expand -f -o "$T/dir" "$T/s.mlcore"

# A regular file is still replaced with --force, and refused without it
echo old >"$T/reg"
expect 2 "already exists \(use --force" "$M" dump -q -o "$T/reg" "$SP"
"$M" dump -q --force -o "$T/reg" "$SP" || fail "dump --force over a regular file: exit $?"
"$M" core verify "$T/reg" >/dev/null || fail "replaced file does not verify"

# -o '' and -o - are usage errors for dump (a snapshot is published whole, not streamed)
expect 64 "empty" "$M" dump -q -o '' "$SP"
expect 64 "not supported.*core expand -o -" "$M" dump -q -o - "$SP"
[ -e ./- ] && fail "dump -o - created a file named -"
expect 64 "empty" "$M" core expand -o '' "$T/s.mlcore"

# A missing output directory is the file's problem, not the process's
expect 2 "$T/nodir/x.mlcore: cannot create it: directory $T/nodir: does not exist" \
	"$M" dump -q -o "$T/nodir/x.mlcore" "$SP"
grep -q "pid $SP" <<<"$LAST_ERR" && fail "missing directory blamed on the pid: $LAST_ERR"
expect 2 "cannot create it: directory $T/nodir: does not exist" "$M" core expand -o "$T/nodir/c" "$T/s.mlcore"
expect 2 "is a directory" "$M" dump -q -o "$T/dir/" "$SP"

# --level range: the whole range is said
expect 64 "1-12 with lz4, 1-22 with zstd, 1-9 with zlib" "$M" dump -q --level=99 -o "$T/l.mlcore" "$SP"
expect 64 "--level must be 1-9 with --codec=zlib" "$M" dump -q --codec=zlib --level=12 -o "$T/l.mlcore" "$SP"

# An unwritable directory, as a user who may trace the target: the directory is named, not ptrace
if command -v setpriv >/dev/null && ml_nobody_stage; then
	setpriv --reuid=65534 --regid=65534 --clear-groups sleep 1000 &
	NP=$!
	ml_exec_done $NP sleep || fail "setup: sleep as nobody"
	# under /tmp with the staged binaries, where the other user can reach it (TMPDIR may be
	# private to us)
	mkdir "$NB_DIR/ro" && chmod 555 "$NB_DIR/ro"
	expect 2 "cannot create a file in $NB_DIR/ro: permission denied" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "${NB_MEMLENS[@]}" dump -q -o "$NB_DIR/ro/x" "$NP"
	grep -q "PTRACE" <<<"$LAST_ERR" && fail "unwritable directory reported as ptrace: $LAST_ERR"
	# A failure of the publishing step itself (a sticky directory: another user's file may
	# not be replaced there, which is found only when the finished file is renamed over it)
	# names the file, not ptrace.
	mkdir "$NB_DIR/sticky" && chmod 1777 "$NB_DIR/sticky" && echo precious >"$NB_DIR/sticky/x"
	expect 2 "^memlens: $NB_DIR/sticky/x: .*publishing .*: operation not permitted; no file written" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "${NB_MEMLENS[@]}" dump -q --force -o "$NB_DIR/sticky/x" "$NP"
	grep -q "PTRACE" <<<"$LAST_ERR" && fail "publishing failure reported as ptrace: $LAST_ERR"
	[ "$(cat "$NB_DIR/sticky/x")" = precious ] || fail "the other user's file was replaced"
	[ "$(ls -A "$NB_DIR/sticky")" = x ] || fail "a failed publish left: $(ls -A "$NB_DIR/sticky")"
	kill $NP
	ml_nobody_clean
else
	ml_not_run "setpriv unavailable: unwritable-directory case not run"
fi
echo ok
ml_done
