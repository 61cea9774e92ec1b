#!/usr/bin/env bash
# Process selection where a PID is taken: NAME (exact comm), -p PID,..., --pgrep REGEX [-f],
# --all; several processes for maps, info, pagemap and wss, each named in text and JSON; an
# ambiguous name for read and dump is an error listing the candidates; a file wins over a name.
set -uo pipefail
. "$ML_SOURCE_DIR/tests/support/cli.sh"
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: /usr/bin/python3 is needed to check the JSON"; exit 77; }

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
# a comm no other process has: the helper under a name of our own (comm is the file name)
name="mlsel$$"
name=${name:0:15}
cp "$ML_HELPERS/ml_child" "$tmp/$name"
cp "$ML_HELPERS/ml_child" "$tmp/${name}z"
n=0
start() { # BINARY ARG -> pid in $cpid
  n=$((n + 1))
  mkfifo "$tmp/in$n" "$tmp/out$n"
  "$1" "$2" <"$tmp/in$n" >"$tmp/out$n" &
  cpid=$!
  pids+=("$cpid")
  exec {w}>"$tmp/in$n" {r}<"$tmp/out$n"
  eval "W$n=$w R$n=$r"
  read -r line <&"$r"
  [[ $line == ready* ]] || fail "child $n: $line"
}
ask() { local w r; eval "w=\$W$1 r=\$R$1"; echo "$2" >&"$w"; read -r ans <&"$r"; [[ $ans == ok* ]] || fail "child $1: $2 -> $ans"; }
start "$tmp/$name" "--tag-a"; a=$cpid
start "$tmp/$name" "--tag-b"; b=$cpid
start "$tmp/${name}z" "--tag-c"; c=$cpid
ab=$(printf '%s\n' "$a" "$b" | sort -n | tr '\n' ' ')

# --- maps NAME: both processes, each under a header naming it ---
"$MEMLENS" maps --bytes "$name" >"$tmp/m" 2>"$tmp/e"; rc=$?
[ $rc -eq 0 ] || fail "maps NAME exit $rc: $(cat "$tmp/e")"
got=$(sed -n 's/^==> pid \([0-9]*\) (\(.*\)) <==$/\1 \2/p' "$tmp/m")
[ "$(awk '{print $1}' <<<"$got" | sort -n | tr '\n' ' ')" = "$ab" ] || fail "maps NAME headers: $got"
[ "$(awk '{print $2}' <<<"$got" | sort -u)" = "$name" ] || fail "headers name the comm: $got"
[ "$(grep -c "$tmp/$name\$" "$tmp/m")" -ge 2 ] || fail "each process's mappings are listed"

# --- JSON: one document per line, each naming its process ---
for cmd in maps info pagemap; do
  "$MEMLENS" "$cmd" --json "$name" >"$tmp/j" 2>"$tmp/e"; rc=$?
  [ $rc -eq 0 ] || fail "$cmd --json NAME exit $rc: $(cat "$tmp/e")"
  got=$("$PY" -c 'import json,sys; print(" ".join(str(p) for p in sorted(json.loads(l)["pid"] for l in open(sys.argv[1]))))' "$tmp/j") \
    || fail "$cmd --json is not JSON Lines: $(head -c 200 "$tmp/j")"
  [ "$got " = "$ab" ] || fail "$cmd --json pids '$got', expected '$ab'"
done

# --- -p, --pgrep, --pgrep -f ---
"$MEMLENS" info -p "$a,$c" --json >"$tmp/j" || fail "info -p exit $?"
[ "$("$PY" -c 'import json,sys; print(sorted(json.loads(l)["pid"] for l in open(sys.argv[1])))' "$tmp/j")" = "$(printf '[%s, %s]' $(printf '%s\n' "$a" "$c" | sort -n))" ] \
  || fail "info -p: $(cat "$tmp/j" | head -c 300)"
"$MEMLENS" pagemap --pgrep "^${name}z?\$" --bytes >"$tmp/p" || fail "pagemap --pgrep exit $?"
[ "$(grep -c '^==> pid' "$tmp/p")" -eq 3 ] || fail "pagemap --pgrep: $(grep '^==>' "$tmp/p")"
"$MEMLENS" maps --pgrep "$name --tag-b\$" -f --bytes >"$tmp/f" || fail "maps --pgrep -f exit $?"
grep -q '^==>' "$tmp/f" && fail "one process: no header"
grep -q "$tmp/$name\$" "$tmp/f" || fail "maps --pgrep -f: $(head -3 "$tmp/f")"
"$MEMLENS" maps --pgrep "tag-b" --bytes >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "no process matches --pgrep" "$tmp/e" || fail "--pgrep without -f saw the arguments: exit $rc"

# --- several processes, one of them gone: a partial result ---
"$MEMLENS" maps --bytes -p "$a,1073741800" >"$tmp/m" 2>"$tmp/e"; rc=$?
[ $rc -eq 1 ] || fail "maps with one missing PID exit $rc, expected 1"
grep -q "pid 1073741800" "$tmp/e" || fail "the missing PID is not named: $(cat "$tmp/e")"
grep -q "^==> pid $a ($name) <==" "$tmp/m" || fail "the readable one is still shown"

# --- wss over the name: both measured, each row naming its PID ---
"$MEMLENS" wss -i 50ms --bytes "$name" >"$tmp/w" 2>"$tmp/e" || fail "wss NAME exit $?: $(cat "$tmp/e")"
[ "$(awk -v n="$name" '$NF == n {print $1}' "$tmp/w" | sort -n | tr '\n' ' ')" = "$ab" ] || fail "wss NAME: $(cat "$tmp/w")"

# --- one-process commands: an ambiguous name is an error listing the candidates ---
ask 3 "map 4096"; addr=${ans#ok addr=}; addr=${addr%% *}
ask 3 "write $addr memlens-select-needle"
"$MEMLENS" read "$name" "$addr" 16 >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] || fail "read of an ambiguous name exit $rc, expected 2"
grep -q "matches 2 processes" "$tmp/e" && grep -q "$a ($name)" "$tmp/e" && grep -q "$b ($name)" "$tmp/e" \
  || fail "the candidates are not listed: $(cat "$tmp/e")"
[ "$(wc -l <"$tmp/e")" -eq 1 ] || fail "one line: $(cat "$tmp/e")"
"$MEMLENS" dump -o "$tmp/x.mlcore" "$name" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "matches 2 processes" "$tmp/e" || fail "dump of an ambiguous name exit $rc: $(cat "$tmp/e")"
[ ! -e "$tmp/x.mlcore" ] || fail "dump wrote a file for an ambiguous name"
"$MEMLENS" read --raw "${name}z" "$addr" 21 >"$tmp/r" 2>"$tmp/e" || fail "read NAME exit $?: $(cat "$tmp/e")"
[ "$(cat "$tmp/r")" = "memlens-select-needle" ] || fail "read NAME read: $(cat "$tmp/r")"

# --- no such name; a file of that name wins; contradictory options ---
"$MEMLENS" maps "nosuch$$" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "'nosuch$$': no such file, and no process has that name" "$tmp/e" || fail "unknown name: exit $rc: $(cat "$tmp/e")"
mkdir "$tmp/d" && echo "not a snapshot" >"$tmp/d/$name" || fail "cannot write the decoy"
(cd "$tmp/d" && "$MEMLENS" maps "$name" >/dev/null 2>"$tmp/e"); rc=$?
[ $rc -eq 2 ] && grep -q "$name" "$tmp/e" && ! grep -q "no process" "$tmp/e" || fail "a file of that name must be opened as a snapshot: exit $rc: $(cat "$tmp/e")"
(cd "$tmp/d" && "$MEMLENS" maps --bytes --pgrep "^$name\$" >/dev/null 2>&1) || fail "--pgrep reaches the processes past the file"
for bad in "-p $a $a" "-f $name" "--all -p $a" "--pgrep ( "; do
  # shellcheck disable=SC2086
  "$MEMLENS" maps $bad >/dev/null 2>&1; rc=$?
  [ $rc -eq 64 ] || fail "'maps $bad' exit $rc, expected 64"
done
"$MEMLENS" maps >/dev/null 2>&1; [ $? -eq 64 ] || fail "no process: usage"

# --- --all: every readable process, ours among them, memlens itself left out ---
"$MEMLENS" info --all --json >"$tmp/all" 2>/dev/null; rc=$?
[ $rc -le 1 ] || fail "info --all exit $rc"
"$PY" - "$tmp/all" "$a" "$b" "$c" <<'PY' || fail "info --all"
import json, sys
pids = [json.loads(l)["pid"] for l in open(sys.argv[1])]
assert len(pids) == len(set(pids)), "a process twice"
for p in map(int, sys.argv[2:]):
    assert p in pids, (p, pids)
PY
# --- /proc mounted with hidepid=1: another user's processes cannot be examined. A selection
# says so instead of dropping them: a NAME or --pgrep names them (whether they match is
# unknown), --all takes them in (each then fails by name), grep --all names them skipped ---
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && command -v unshare >/dev/null &&
   unshare -m --propagation private sh -c 'mount -t proc -o hidepid=1 proc /proc' 2>"$tmp/e"; then
  ml_nobody_stage || fail "cannot stage memlens for an unprivileged user"
  hp() { # memlens as uid 65534 with /proc mounted hidepid=1 in a private mount namespace
    unshare -m --propagation private bash -c \
      'mount -t proc -o hidepid=1 proc /proc || exit 90; exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"' \
      hp "${NB_MEMLENS[@]}" "$@"
  }
  hp wss --pgrep "^$name\$" >/dev/null 2>"$tmp/e"; rc=$?
  [ $rc -eq 2 ] || fail "hidepid: wss --pgrep exit $rc, expected 2 (no process examined matches): $(cat "$tmp/e")"
  grep -Eq "^memlens wss: [0-9]+ processes not examined: .*\b$a\b.*: operation not permitted \(/proc is mounted with hidepid\); whether they match is unknown" "$tmp/e" \
    || fail "hidepid: wss --pgrep does not name the processes it could not examine: $(cat "$tmp/e")"
  hp wss "$name" >/dev/null 2>"$tmp/e"
  grep -Eq "not examined: .*\b$b\b" "$tmp/e" || fail "hidepid: wss NAME: $(cat "$tmp/e")"
  hp grep --all -c mlsel_no_such_needle >/dev/null 2>"$tmp/e"; rc=$?
  grep -Eq "^memlens grep: pid $a: skipped: operation not permitted \(/proc is mounted with hidepid\)" "$tmp/e" \
    || fail "hidepid: grep --all does not name a process it could not examine: $(head -5 "$tmp/e")"
  [ $rc -eq 2 ] || fail "hidepid: grep --all exit $rc, expected 2 (nothing could be searched)"
  ml_nobody_clean
else
  ml_not_run "not root, or no setpriv/unshare, or no private mount namespace with a hidepid=1 /proc: $(head -1 "$tmp/e" 2>/dev/null)"
fi
echo "select: ok"
ml_done
