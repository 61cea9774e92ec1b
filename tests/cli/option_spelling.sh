#!/usr/bin/env bash
# One spelling of an option in every subcommand: a long option has the same short letter
# (or none) wherever it exists, every command that writes a file takes -f and --force, and
# they do the same thing.
set -uo pipefail
: "${MEMLENS:?}" "${ML_SOURCE_DIR:?}"
ML=$MEMLENS
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
source "$ML_SOURCE_DIR/tests/support/cli.sh"
sleep 1000 &
SP=$!
ml_exec_done "$SP" sleep || fail "sleep did not start"
trap 'kill $SP 2>/dev/null; rm -rf "$T"' EXIT

cmds=()
for c in $(sed -n 's/^CMD(\([a-z]*\),.*/\1/p' "$ML_SOURCE_DIR/tools/commands.def"); do
  if [ "$c" = core ]; then
    for s in info verify expand export import; do cmds+=("core $s"); done
  else
    cmds+=("$c")
  fi
done
# "command long short" for every option of every command
for c in "${cmds[@]}"; do
  # shellcheck disable=SC2086
  "$ML" $c --help | awk -v c="$c" '/^options:/ {on = 1; next} on && /^  +-/ {
      short = "-"; long = ""
      if (match($0, /^  -[A-Za-z0-9], --/)) { short = substr($0, 4, 1) }
      if (match($0, /--[a-z0-9][a-z0-9-]*/)) { long = substr($0, RSTART + 2, RLENGTH - 2) }
      if (long != "") print c "\t" long "\t" short }'
done >"$T/opts"
[ "$(wc -l <"$T/opts")" -gt 50 ] || fail "too few options read: $(wc -l <"$T/opts")"
# --count is two options that share a name: grep's counts matches (-c, as grep -c), wss's
# is the number of windows (-n, as vmstat and top -n)
# --full (--pgrep on the whole command line, pgrep -f) is long-only where -f is already
# another option: grep's --pattern-file, and --force in the commands that write a file
grep -vP '^(grep|wss)\tcount\t' "$T/opts" | grep -vP '^(grep|pagemap|wss)\tfull\t-$' >"$T/opts2" && mv "$T/opts2" "$T/opts"
awk -F'\t' '{ if (($2 in s) && s[$2] != $3) { print "--" $2 ": -" s[$2] " in " c[$2] ", -" $3 " in " $1; bad = 1 }
              s[$2] = $3; c[$2] = $1 } END { exit bad }' "$T/opts" >"$T/bad" \
  || fail "an option spelled two ways: $(cat "$T/bad")"

# every command that writes a file: -f and --force
for c in "dump" "core expand" "core export" "core import" "pagemap" "wss"; do
  grep -qP "^$c\tforce\tf$" "$T/opts" || fail "$c: no -f/--force"
done
# and -f is --force: dump and pagemap --svg replace what --force replaces
"$ML" dump -q -o "$T/s.mlcore" "$SP" || fail "dump exit $?"
"$ML" dump -q -o "$T/s.mlcore" "$SP" 2>/dev/null && fail "dump over an existing file without -f"
"$ML" dump -q -f -o "$T/s.mlcore" "$SP" || fail "dump -f exit $?"
"$ML" dump -q --force -o "$T/s.mlcore" "$SP" || fail "dump --force exit $?"
"$ML" core verify "$T/s.mlcore" >/dev/null || fail "the replaced snapshot does not verify"

# "--" ends the options, in every command (one parser); an option's argument "--" does not
printf 'x--y' >"$T/dd.bin"
out=$("$ML" grep --raw -e -- "$T/dd.bin" -c 2>&1)
[ $? = 0 ] && [ "$out" = "$T/dd.bin:--:1" ] || fail "grep -e -- FILE -c: $out"
out=$("$ML" grep --raw -c -- -e "$T/dd.bin" 2>&1)
[ $? = 1 ] && [ "$out" = "$T/dd.bin:-e:0" ] || fail "grep -c -- -e FILE: $out"
"$ML" maps --name -- "$SP" --json >"$T/m.json" 2>"$T/err"
[ $? = 1 ] && grep -q '"mappings":\[\]' "$T/m.json" || fail "maps --name -- PID --json: $(cat "$T/err" "$T/m.json")"
echo ok
