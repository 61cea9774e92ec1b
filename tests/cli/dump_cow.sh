#!/bin/bash
# memlens dump --freeze=cow of a target whose seccomp filter forbids fork: refused with the reason
# (exit 2, nothing written); --freeze=auto falls back to the ptrace freeze and says why.
set -uo pipefail
fail() { echo "FAIL: $*"; exit 1; }
M=$MEMLENS
T=$(mktemp -d)
mkfifo "$T/in" "$T/out"
"$ML_HELPERS/ml_cowee" <"$T/in" >"$T/out" &
CHILD=$!
trap 'kill -9 $CHILD 2>/dev/null; rm -rf "$T"' EXIT
exec {cw}>"$T/in" {cr}<"$T/out"
read -r line <&"$cr"
[[ $line == ready* ]] || fail "child: $line"
ask() { echo "$*" >&"$cw"; reply=; read -r reply <&"$cr"; }
ask setup
[[ $reply == ok* ]] || fail "setup: $reply"
ask seccomp
[[ $reply == ok* ]] || { echo "SKIP: cannot install a seccomp filter here: $reply"; exit 77; }

out=$("$M" dump -q --freeze=cow -o "$T/x.mlcore" "$CHILD" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "--freeze=cow: exit $rc: $out"
grep -q seccomp <<<"$out" || fail "--freeze=cow does not say why: $out"
[ -e "$T/x.mlcore" ] && fail "--freeze=cow left an output"

out=$("$M" dump --freeze=auto --json -o "$T/y.mlcore" "$CHILD"); rc=$?
[ $rc -eq 0 ] || fail "--freeze=auto: exit $rc: $out"
grep -qF '"freeze":"ptrace"' <<<"$out" || fail "--freeze=auto did not use the ptrace freeze: $out"
grep -q seccomp <<<"$out" || fail "--freeze=auto does not say why not cow: $out"
[ -s "$T/y.mlcore" ] || fail "--freeze=auto wrote nothing"
# no copy of the target was left behind
kids=$(cat /proc/"$CHILD"/task/*/children 2>/dev/null | wc -w)
[ "$kids" -eq 0 ] || fail "$kids children of the target left"
echo ok
