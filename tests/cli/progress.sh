#!/usr/bin/env bash
# The progress line of long work (grep, dump, core expand/export, ps): on stderr when stderr is
# a terminal (a pseudo-terminal here), erased when the work ends, never on a pipe, and
# never mixed into standard output.
set -uo pipefail
: "${MEMLENS:?}" "${ML_SOURCE_DIR:?}"
ML=$MEMLENS
PTY="/usr/bin/python3 $ML_SOURCE_DIR/tests/support/ptyrun.py"
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
source "$ML_SOURCE_DIR/tests/support/cli.sh"
sleep 1000 &
SP=$!
ml_exec_done "$SP" sleep || fail "sleep did not start"
trap 'kill $SP 2>/dev/null; rm -rf "$T"' EXIT
"$ML" dump -q -o "$T/s.mlcore" "$SP" || fail "setup: dump exit $?"

# on a terminal: a line that names the work and is erased at the end
on_tty() { # WHAT command...: stderr on a pty
  local what=$1
  shift
  $PTY stderr "$T/out" "$T/err" "$@" || fail "$*: exit $? on a terminal: $(cat -v "$T/err")"
  grep -aq "memlens $what: " "$T/err" || fail "$*: no progress line on a terminal: $(cat -v "$T/err")"
  grep -aq $'\r' "$T/err" || fail "$*: the progress line is not redrawn in place"
  grep -aq $'\e' "$T/out" && fail "$*: terminal control bytes on standard output"
  return 0
}
# on a pipe: nothing of it
on_pipe() {
  "$@" >"$T/out" 2>"$T/err" || fail "$*: exit $? on a pipe"
  grep -aq -e 'memlens [a-z ]*: .*%' -e $'\r' -e $'\e' "$T/err" && fail "$*: progress on a pipe: $(cat -v "$T/err")"
  return 0
}

on_tty grep "$ML" grep -c sleep "$SP"
[ "$(tail -c 4 "$T/err" | od -An -c | tr -d ' ')" = '\r033[K' ] || fail "grep: the line is not erased at the end: $(cat -v "$T/err" | tail -c 80)"
grep -q "^$SP:sleep:[1-9]" "$T/out" || fail "grep output changed on a terminal: $(cat "$T/out")"
on_pipe "$ML" grep -c sleep "$SP"
grep -q "^$SP:sleep:[1-9]" "$T/out" || fail "grep output on a pipe: $(cat "$T/out")"
# matches printed while the line is up never share a line with it
$PTY both "$T/both" "$T/none" "$ML" grep -m 3 sleep "$SP" || fail "grep with both on a terminal: exit $?"
grep -a "^.*$SP:0x" "$T/both" | grep -aq "memlens grep: .*$SP:0x" && fail "a hit is printed on the progress line: $(cat -v "$T/both")"

# ps over every process counts them on the line, erased before the table is printed
on_tty ps "$ML" ps
grep -aq "memlens ps: [0-9]* processes" "$T/err" || fail "ps: no count on the line: $(cat -v "$T/err")"
# (the line is erased before anything else reaches stderr, e.g. the summary of what was not read)
/usr/bin/python3 -c 'import re,sys; e=open(sys.argv[1],"rb").read(); i=e.rindex(b" processes"); sys.exit(0 if e[i+10:i+14] == b"\r\x1b[K" else 1)' "$T/err" \
	|| fail "ps: the line is not erased: $(cat -v "$T/err")"
grep -q "^ *$SP " "$T/out" || fail "ps output changed on a terminal: $(head -3 "$T/out")"
on_pipe "$ML" ps
on_tty "core expand" "$ML" core expand -o "$T/c.core" "$T/s.mlcore"
on_pipe "$ML" core expand -f -o "$T/c.core" "$T/s.mlcore"
on_tty "core export" "$ML" core export -o "$T/c.gz" "$T/s.mlcore"
on_tty dump "$ML" dump -o "$T/t.mlcore" "$SP"
on_pipe "$ML" dump -f -o "$T/t.mlcore" "$SP"
# dump -q: no progress even on a terminal
$PTY stderr "$T/out" "$T/err" "$ML" dump -q -f -o "$T/t.mlcore" "$SP" || fail "dump -q exit $?"
[ -s "$T/err" ] && fail "dump -q wrote to the terminal: $(cat -v "$T/err")"
echo ok
