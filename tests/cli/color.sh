#!/usr/bin/env bash
# --color=auto|always|never on grep matches and table headers: auto colours a terminal
# only, and not with NO_COLOR set (non-empty) or TERM=dumb; always and never win over
# both; --color is taken wherever it is among the options, never from an option's value.
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
ESC=$'\e'
MATCH="${ESC}[1;31msleep${ESC}[0m"
BOLD="${ESC}[1m"

# grep: only the matched bytes are coloured, the text around them is not
"$ML" grep --color=always -m 1 -e sleep "$SP" >"$T/o" || fail "grep --color=always exit $?"
grep -aqF "$MATCH" "$T/o" || fail "grep --color=always: the match is not coloured: $(cat -v "$T/o")"
plain=$(sed "s/${ESC}\[[0-9;]*m//g" "$T/o")
"$ML" grep --color=never -m 1 -e sleep "$SP" >"$T/n" || fail "grep --color=never exit $?"
[ "$plain" = "$(cat "$T/n")" ] || fail "colour changed the text: $plain vs $(cat "$T/n")"
grep -aq "$ESC" "$T/n" && fail "grep --color=never coloured"
"$ML" grep -m 1 -e sleep "$SP" >"$T/a" || fail "grep exit $?"
grep -aq "$ESC" "$T/a" && fail "grep --color=auto coloured a pipe"
# auto on a terminal: colour, unless NO_COLOR (non-empty) or TERM=dumb
TERM=xterm $PTY stdout "$T/o" "$T/e" "$ML" grep -m 1 -e sleep "$SP" || fail "grep on a terminal exit $?"
grep -aqF "$MATCH" "$T/o" || fail "auto on a terminal: no colour: $(cat -v "$T/o")"
TERM=xterm NO_COLOR=1 $PTY stdout "$T/o" "$T/e" "$ML" grep -m 1 -e sleep "$SP"
grep -aq "$ESC" "$T/o" && fail "NO_COLOR=1 on a terminal: coloured"
TERM=xterm NO_COLOR= $PTY stdout "$T/o" "$T/e" "$ML" grep -m 1 -e sleep "$SP"
grep -aqF "$MATCH" "$T/o" || fail "an empty NO_COLOR must not turn colour off"
TERM=dumb $PTY stdout "$T/o" "$T/e" "$ML" grep -m 1 -e sleep "$SP"
grep -aq "$ESC" "$T/o" && fail "TERM=dumb: coloured"
TERM=xterm NO_COLOR=1 $PTY stdout "$T/o" "$T/e" "$ML" grep --color=always -m 1 -e sleep "$SP"
grep -aqF "$MATCH" "$T/o" || fail "--color=always must win over NO_COLOR"
TERM=xterm $PTY stdout "$T/o" "$T/e" "$ML" grep --color never -m 1 -e sleep "$SP"
grep -aq "$ESC" "$T/o" && fail "--color never on a terminal: coloured"

# table headers: bold header line, rows untouched
for c in maps pagemap; do
  "$ML" $c --color=always "$SP" >"$T/o" || fail "$c --color=always exit $?"
  h=$(head -n 1 "$T/o")
  [[ $h == "$BOLD"*"${ESC}[0m" ]] || fail "$c: header not bold: $(cat -v <<<"$h")"
  tail -n +2 "$T/o" | grep -aq "$ESC" && fail "$c: colour outside the header"
  "$ML" $c "$SP" >"$T/n"
  # (the rows' PSS moves with the rest of the machine: compare the header and the shape)
  # (column widths follow the values, which move: compare the header's words)
  [ "$(head -n 1 "$T/o" | sed "s/${ESC}\[[0-9;]*m//g" | tr -s ' ')" = "$(head -n 1 "$T/n" | tr -s ' ')" ] \
    || fail "$c: colour changed the header"
  [ "$(wc -l <"$T/o")" = "$(wc -l <"$T/n")" ] || fail "$c: colour changed the rows"
  TERM=xterm NO_COLOR=1 $PTY stdout "$T/o" "$T/e" "$ML" $c "$SP" || fail "$c on a terminal exit $?"
  grep -aq "$ESC" "$T/o" && fail "$c: NO_COLOR on a terminal: coloured"
done
h=$("$ML" maps --sort rss --color=always --bytes "$SP" | head -n 1)
[[ $h == "$BOLD"* ]] || fail "--color among other options: $(cat -v <<<"$h")"

# before the command's name, as "memlens --color=always grep ..."
h=$("$ML" --color=always maps "$SP" | head -n 1)
[[ $h == "$BOLD"* ]] || fail "memlens --color=always maps: no colour: $(cat -v <<<"$h")"
"$ML" --color=always grep -m 1 -e sleep "$SP" | grep -aqF "$MATCH" || fail "memlens --color=always grep: no colour"
"$ML" dump -q -o "$T/s.mlcore" "$SP" || fail "dump exit $?"
"$ML" --color=always core info "$T/s.mlcore" >"$T/o" || fail "memlens --color=always core info exit $?"

# usage: a bad value is a usage error; an option's value that reads --color stays a value
"$ML" maps --color=sometimes "$SP" 2>"$T/e" >/dev/null; rc=$?
[ $rc -eq 64 ] && grep -q "auto, always or never" "$T/e" || fail "--color=sometimes: exit $rc $(cat "$T/e")"
"$ML" grep --color=always -c -e --color "$SP" >"$T/o"; rc=$?
[ $rc -le 1 ] && grep -q "^$SP:--color:" "$T/o" || fail "grep -e --color took the pattern as the option: $(cat "$T/o")"
"$ML" maps --help | grep -q -- "--color=WHEN" || fail "--help does not mention --color"
echo ok
