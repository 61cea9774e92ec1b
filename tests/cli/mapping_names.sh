#!/usr/bin/env bash
# One name for one mapping in every command's table (maps, pagemap, wss --regions, grep,
# core info): [anon] for an anonymous mapping, "/dev/zero (deleted)" for shared anonymous
# memory, [heap]; and --name (maps, grep) matching the whole name, its last path
# component, and "[heap]" / "[anon]" literally.
set -uo pipefail
: "${MEMLENS:?}" "${ML_HELPERS:?}" "${ML_SOURCE_DIR:?}"
ML=$MEMLENS
source "$ML_SOURCE_DIR/tests/support/cli.sh"
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
cleanup() {
  [ -n "${M_PID:-}" ] && kill "$M_PID" 2>/dev/null
  [ -n "${S_PID:-}" ] && kill "$S_PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
coproc M { exec "$ML_HELPERS/ml_mapper"; }
M_PID=$M_PID
cmd() { echo "$*" >&"${M[1]}"; read -r ans <&"${M[0]}"; case $ans in ok*) ;; *) fail "child: $* -> $ans";; esac; }
read -r ready <&"${M[0]}"
pid=${ready#*pid=}
cmd map 0x100000 rw; anon=${ans#*addr=0x}
cmd touch 0x$anon 0x10000 4096
cmd shmanon 0x100000; shm=${ans#*addr=0x}
# the heap: the child's, or (where its allocator never grows one, as under a sanitizer)
# that of sleep(1), which is not built with the tests
heap=$(awk '/\[heap\]$/ {split($1, a, "-"); print a[1]; exit}' /proc/$pid/maps)
hpid=$pid
if [ -z "$heap" ]; then
  sleep 1000 &
  S_PID=$!
  ml_exec_done "$S_PID" sleep || fail "sleep did not start"
  hpid=$S_PID
  heap=$(awk '/\[heap\]$/ {split($1, a, "-"); print a[1]; exit}' /proc/$hpid/maps)
fi
[ -n "$heap" ] || fail "neither the child nor sleep has a [heap]"
"$ML" dump -q -o "$T/s.mlcore" "$pid" || fail "dump exit $?"

# name_of FILE ADDR: the name at the end of the row that starts at ADDR
name_of() {
  grep -E "^0*$2[- ]" "$1" | head -n 1 | sed -E 's/^.* (\[anon\]|\[heap\]|\/dev\/zero \(deleted\))$/\1/'
}
"$ML" maps "$pid" >"$T/maps" || fail "maps exit $?"
"$ML" pagemap "$pid" >"$T/pagemap" || fail "pagemap exit $?"
"$ML" wss -i 50ms --regions "$pid" >"$T/wss" 2>/dev/null || fail "wss exit $?"
"$ML" core info "$T/s.mlcore" >"$T/info" || fail "core info exit $?"
sed -n '/mappings by WSS/,/^$/p' "$T/wss" | awk 'NR > 2 {print}' >"$T/wssrows"
for f in maps pagemap wssrows; do
  [ "$(name_of "$T/$f" "$anon")" = "[anon]" ] || fail "$f: anonymous mapping named '$(name_of "$T/$f" "$anon")'"
  [ "$(name_of "$T/$f" "$shm")" = "/dev/zero (deleted)" ] || fail "$f: shared anonymous named '$(name_of "$T/$f" "$shm")'"
done
"$ML" maps "$hpid" >"$T/h_maps" || fail "maps exit $?"
"$ML" pagemap "$hpid" >"$T/h_pagemap" || fail "pagemap exit $?"
"$ML" wss -i 50ms --regions "$hpid" 2>/dev/null | sed -n '/mappings by WSS/,/^$/p' | awk 'NR > 2' >"$T/h_wssrows"
for f in h_maps h_pagemap h_wssrows; do
  [ "$(name_of "$T/$f" "$heap")" = "[heap]" ] || fail "$f: heap named '$(name_of "$T/$f" "$heap")'"
done
grep -q "^ *[0-9a-f]*$anon .*\[anon\]$" "$T/info" || fail "core info: anonymous mapping not [anon]: $(grep "$anon" "$T/info")"
grep -q "^ *[0-9a-f]*$shm .*/dev/zero (deleted)$" "$T/info" || fail "core info: shared anonymous: $(grep "$shm" "$T/info")"
# grep names the region of a hit the same way
"$ML" grep -m 1 -x 01 --addr "$anon-$(printf %x $((0x$anon + 0x10000)))" "$pid" >"$T/g1"
"$ML" grep -m 1 -x 01 --addr "$shm-$(printf %x $((0x$shm + 0x100000)))" "$pid" >"$T/g2"
"$ML" grep -m 1 -x 01 --addr "$shm-$(printf %x $((0x$shm + 0x100000)))" "$T/s.mlcore" >"$T/g3"
grep -q ":\[anon\]+0x" "$T/g1" || fail "grep: anonymous region named: $(cat "$T/g1")"
grep -q ":/dev/zero (deleted)+0x" "$T/g2" || fail "grep: shared anonymous region named: $(cat "$T/g2")"
grep -q ":/dev/zero (deleted)+0x" "$T/g3" || fail "grep (snapshot): shared anonymous region named: $(cat "$T/g3")"

# --name: literal [heap] and [anon], the basename, the whole path as a glob
rows() { grep -cE '^[0-9a-f]+-[0-9a-f]+ ' "$T/o"; }
"$ML" maps --name '[heap]' "$hpid" >"$T/o" || fail "maps --name [heap] exit $?"
[ "$(rows)" -eq 1 ] && grep -q "^$heap-.*\[heap\]$" "$T/o" || fail "--name '[heap]' is not the heap: $(cat "$T/o")"
"$ML" maps --name '[anon]' "$pid" >"$T/o" || fail "maps --name [anon] exit $?"
grep -q "^$anon-" "$T/o" || fail "--name '[anon]' lacks the anonymous mapping"
[ "$(grep -cvE '\[anon\]$' <(grep -E '^[0-9a-f]+-' "$T/o"))" -eq 0 ] || fail "--name '[anon]' shows named mappings: $(cat "$T/o")"
libc=$(awk '$6 ~ /\/libc[.-]/ {print $6; exit}' /proc/$pid/maps)
if [ -n "$libc" ]; then
  base=${libc##*/}
  "$ML" maps --name "$base" "$pid" >"$T/o" || fail "maps --name $base exit $?"
  want=$(grep -c " $libc$" /proc/$pid/maps)
  [ "$(rows)" -eq "$want" ] || fail "--name $base: $(rows) rows, want $want"
  "$ML" maps --name 'libc.so*' "$pid" >"$T/o" || fail "maps --name 'libc.so*' exit $?"
  [ "$(rows)" -ge 1 ] || fail "--name 'libc.so*' (a basename glob) matched nothing"
  "$ML" maps --name "$libc" "$pid" >"$T/o" && [ "$(rows)" -eq "$want" ] || fail "--name with the whole path"
  "$ML" maps --name "*/${base}" "$pid" >"$T/o" && [ "$(rows)" -eq "$want" ] || fail "--name with a path glob"
  "$ML" grep -c --name "$base" -e ELF "$pid" | grep -q "^$pid:ELF:[1-9]" || fail "grep --name $base found no ELF header"
fi
"$ML" maps --name zero "$pid" >"$T/o" || fail "maps --name zero (basename of /dev/zero) exit $?"
grep -q "^$shm-.*/dev/zero (deleted)$" "$T/o" || fail "--name zero: $(cat "$T/o")"
"$ML" grep -c --name '[heap]' -x 00 "$hpid" >"$T/o" || fail "grep --name [heap] exit $?"
grep -q "^$hpid:00:[1-9]" "$T/o" || fail "grep --name '[heap]' searched nothing: $(cat "$T/o")"
"$ML" maps --name 'nosuch*' "$pid" >/dev/null; [ $? -eq 1 ] || fail "--name matching nothing must exit 1"
echo ok
