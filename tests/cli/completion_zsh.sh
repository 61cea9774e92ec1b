#!/usr/bin/env bash
# zsh completion, as 'cmake --install' installs it: loads through compinit, registers for
# memlens, and builds each subcommand's option specs from its --help.
set -uo pipefail
: "${MEMLENS:?}" "${ML_BINARY_DIR:?}"
fail() { echo "FAIL: $*"; exit 1; }
command -v zsh >/dev/null || { echo "skip: zsh not installed (scripts/deps.sh installs it)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cmake --install "$ML_BINARY_DIR" --prefix "$T/prefix" >/dev/null || fail "cmake --install failed"
F=$T/prefix/share/zsh/site-functions
[ -f "$F/_memlens" ] || fail "zsh completion not installed at share/zsh/site-functions/_memlens"
zsh -n "$F/_memlens" || fail "_memlens has a syntax error"
out=$(HOME=$T PATH="$T/prefix/bin:$PATH" LD_LIBRARY_PATH="$T/prefix/lib" zsh -f -c '
  fpath=('"$F"' $fpath)
  autoload -Uz compinit && compinit -u -d '"$T"'/zcd
  print "registered=$_comps[memlens]"
  autoload -Uz _memlens
  # load the file once (it defines its helpers, then calls _memlens, which fails outside a completion)
  _memlens 2>/dev/null
  _call_program() { shift; "$@"; }   # outside a completion widget: run the command
  print -rl -- "$(_memlens_specs memlens dump)"
  print -- ---
  print -rl -- "$(_memlens_specs memlens core expand)"
' 2>&1) || fail "zsh: $out"
grep -qx 'registered=_memlens' <<<"$out" || fail "compinit did not register _memlens: $out"
grep -q '^--force\[' <<<"$out" || fail "dump specs lack --force: $out"
grep -q '^-f\[' <<<"$out" || fail "dump specs lack -f: $out"
grep -q '^-o\[.*\]:FILE:_files$' <<<"$out" || fail "dump -o does not complete files: $out"
sed -n '/^---$/,$p' <<<"$out" | grep -q '^--output\[.*:CORE:_files$' || fail "core expand --output: $out"
echo ok
