#!/usr/bin/env bash
# The manual: memlens(1) for the command as a whole lists every subcommand, each has its
# own page, every page that points to memlens(1) finds it installed, and groff reads them
# all without a warning.
set -uo pipefail
: "${ML_SOURCE_DIR:?}" "${ML_BINARY_DIR:?}" "${MEMLENS:?}"
fail() { echo "FAIL: $*"; exit 1; }
command -v groff >/dev/null || { echo "skip: groff not installed (scripts/deps.sh installs groff-base)"; exit 77; }
D=$ML_SOURCE_DIR/docs/man
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ -f "$D/memlens.1" ] || fail "no memlens(1)"
man1=$(groff -man -Tutf8 -P-cbou "$D/memlens.1" 2>/dev/null)
for c in $(sed -n 's/^CMD(\([a-z]*\),.*/\1/p' "$ML_SOURCE_DIR/tools/commands.def"); do
  [ -f "$D/memlens-$c.1" ] || fail "no page for memlens $c"
  grep -qE "^ +$c +" <<<"$man1" || fail "memlens(1) does not list $c"
  grep -q "memlens-$c(1)" <<<"$man1" || fail "memlens(1) does not point to memlens-$c(1)"
  grep -qE '^\.BR memlens \(1\)|\\fBmemlens\\fR\(1\)' "$D/memlens-$c.1" \
    || fail "memlens-$c(1) does not point back to memlens(1)"
done
# every option memlens(1) names as common exists in the commands it names
"$MEMLENS" dump --help | grep -q -- '-f, --force' || fail "memlens(1) says dump has -f"
"$MEMLENS" maps --help | grep -q -- '--color=WHEN' || fail "memlens(1) says every command has --color"
for f in "$D"/*.1 "$D"/*.5; do
  w=$(groff -man -ww -z "$f" 2>&1)
  [ -z "$w" ] || fail "$f: groff warns: $w"
done
cmake --install "$ML_BINARY_DIR" --prefix "$T/p" >/dev/null || fail "cmake --install failed"
[ -f "$T/p/share/man/man1/memlens.1" ] || fail "memlens.1 is not installed"
for f in "$T"/p/share/man/man1/*.1; do
  grep -q '^\.BR memlens (1)' "$f" && { [ -f "$T/p/share/man/man1/memlens.1" ] || fail "$f points to a missing memlens(1)"; }
done
echo ok
