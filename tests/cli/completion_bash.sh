#!/usr/bin/env bash
# bash completion, as 'cmake --install' installs it: subcommands, each one's options, the
# argument an option takes (PIDs, files), PIDs with their names, snapshot files.
set -uo pipefail
: "${MEMLENS:?}" "${ML_HELPERS:?}" "${ML_SOURCE_DIR:?}" "${ML_BINARY_DIR:?}"
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
cleanup() { [ -n "${S_PID:-}" ] && kill "$S_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cmake --install "$ML_BINARY_DIR" --prefix "$T/prefix" >/dev/null || fail "cmake --install failed"
BC=$T/prefix/share/bash-completion/completions/memlens
[ -f "$BC" ] || fail "bash completion not installed at share/bash-completion/completions/memlens"
[ -f "$T/prefix/share/zsh/site-functions/_memlens" ] || fail "zsh completion not installed"
# the installed binary has no RPATH (as under /usr): point the loader at the prefix
export PATH="$T/prefix/bin:$PATH" LD_LIBRARY_PATH="$T/prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# shellcheck disable=SC1090
source "$BC" || fail "the completion does not load"
complete -p memlens | grep -q -- '-F _memlens' || fail "memlens has no completion function"

# comp WORD...: what completing the last word offers, one per line
comp() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMPREPLY=()
  _memlens
  printf '%s\n' "${COMPREPLY[@]}"
}
has() { grep -qxF -- "$1" <<<"$2" || fail "completing '$3' does not offer '$1': $(tr '\n' ' ' <<<"$2")"; }
hasnt() { grep -qxF -- "$1" <<<"$2" && fail "completing '$3' offers '$1'"; return 0; }

# subcommands: exactly those of commands.def (plus help, --help, --version)
out=$(comp memlens "")
want=$(sed -n 's/^CMD(\([a-z]*\),.*/\1/p' "$ML_SOURCE_DIR/tools/commands.def" | sort)
got=$(grep -vxE 'help|--help|--version' <<<"$out" | sort)
[ "$got" = "$want" ] || fail "subcommands offered: $(tr '\n' ' ' <<<"$got"), want $(tr '\n' ' ' <<<"$want")"
has maps "$(comp memlens ma)" "memlens ma"
hasnt dump "$(comp memlens ma)" "memlens ma"
has info "$(comp memlens core "")" "memlens core"
has import "$(comp memlens core i)" "memlens core i"

# options: those of the subcommand's --help, short and long
out=$(comp memlens dump -)
for o in -o --output -f --force --freeze --json -q --help; do has "$o" "$out" "memlens dump -"; done
hasnt --sort "$out" "memlens dump -"
has --sort "$(comp memlens maps --s)" "memlens maps --s"
has --svg "$(comp memlens pagemap --s)" "memlens pagemap --s"
out=$(comp memlens core expand --)
has --force "$out" "memlens core expand --"
has --output "$out" "memlens core expand --"
# every long option of every subcommand is offered
for c in $want; do
  [ "$c" = core ] && continue
  "$MEMLENS" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u >"$T/opts"
  out=$(comp memlens "$c" --)
  while read -r o; do has "$o" "$out" "memlens $c --"; done <"$T/opts"
done

# PIDs with their names; a name completes to its PID
coproc S { exec "$ML_HELPERS/ml_mapper"; }
S_PID=$S_PID
read -r _ <&"${S[0]}" # ready: it has exec'd
out=$(comp memlens maps "")
has "$S_PID (ml_mapper)" "$out" "memlens maps"
grep -q "(kthreadd)" <<<"$out" && fail "kernel threads offered: they have no memory to read"
out=$(comp memlens maps "$S_PID")
grep -qE "^$S_PID( \(ml_mapper\))?$" <<<"$out" || fail "completing a PID does not offer it: $out"
grep -qvE "^$S_PID" <<<"$out" && fail "completing $S_PID offers PIDs that do not start with it: $out"
# a name: its PID alone when it is the only process of that name, else listed with the name
out=$(comp memlens pagemap ml_mappe)
grep -qxE "$S_PID( \(ml_mapper\))?" <<<"$out" || fail "completing a name does not offer its PID: $out"
grep -qvE '^[0-9]+( \(ml_mapper\))?$' <<<"$out" && fail "completing ml_mappe offers other processes: $out"
out=$(comp memlens wss -p "")
has "$S_PID (ml_mapper)" "$out" "memlens wss -p"
grep -qvE '^[0-9]+ \(' <<<"$out" && fail "-p offers more than PIDs: $out"
# a running dump's target, by number
has "$S_PID (ml_mapper)" "$(comp memlens dump "")" "memlens dump"

# snapshot files, and the files options take
mkdir "$T/w" && cd "$T/w" || fail "cd"
: >snap-1.mlcore
: >other.core
has snap-1.mlcore "$(comp memlens maps sn)" "memlens maps sn"
has other.core "$(comp memlens grep -e x o)" "memlens grep -e x o"
has snap-1.mlcore "$(comp memlens core verify "")" "memlens core verify"
has snap-1.mlcore "$(comp memlens dump -o s)" "memlens dump -o s"
has other.core "$(comp memlens pagemap --svg o)" "memlens pagemap --svg o"
# an option's value that is not a file or PID: nothing (not files)
out=$(comp memlens maps --sort "")
[ -z "$out" ] || fail "maps --sort offers: $out"
echo ok
