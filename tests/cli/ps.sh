#!/usr/bin/env bash
# memlens ps: selection, columns, JSON, --by groups, unreadable processes, and smem's PSS/USS
# of children whose memory the test controls (private anonymous memory and a file two share).
set -uo pipefail
. "$ML_SOURCE_DIR/tests/support/cli.sh"
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: /usr/bin/python3 is needed to check the JSON"; exit 77; }

out=$("$MEMLENS" ps --help) || fail "--help exit $?"
grep -q '^usage: memlens ps' <<<"$out" || fail "--help text"
for bad in "--sort=bogus" "--by=bogus" "-f" "--pgrep=(" "--json --prometheus" "--bogus" "-p 0" "-p x"; do
  # shellcheck disable=SC2086
  "$MEMLENS" ps $bad >/dev/null 2>&1; rc=$?
  [ $rc -eq 64 ] || fail "'ps $bad' exit $rc, expected 64 (usage)"
done

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
tag="mlps$$x$RANDOM"

# Two children share one 8 MiB file (mapped read-only, every page read) and each has
# 16 MiB of private anonymous memory written (a third 32 MiB when asked); the tag in
# their command lines selects them.
dd if=/dev/urandom of="$tmp/shared" bs=1M count=8 status=none || fail "cannot write the shared file"
cat >"$tmp/child.py" <<'PY'
import mmap, sys
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
s = sum(m[i] for i in range(0, len(m), 4096))
keep = []
def anon(n):
    a = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    for i in range(0, n, 4096):
        a[i] = 1
    keep.append(a)
anon(16 << 20)
print("ok", flush=True)
for line in sys.stdin:
    anon(int(line))
    print("ok", flush=True)
PY
n_child=0
start_child() {
  n_child=$((n_child + 1))
  mkfifo "$tmp/in$n_child" "$tmp/out$n_child"
  "$PY" "$tmp/child.py" "$tmp/shared" "$tag" <"$tmp/in$n_child" >"$tmp/out$n_child" &
  pids+=($!)
  exec {w}>"$tmp/in$n_child" {r}<"$tmp/out$n_child"
  eval "W$n_child=$w R$n_child=$r"
  read -r line <&"$r"
  [ "$line" = ok ] || fail "child $n_child did not start: $line"
}
grow() { # N BYTES
  local w r; eval "w=\$W$1 r=\$R$1"
  echo "$2" >&"$w"; read -r ans <&"$r"; [ "$ans" = ok ] || fail "child $1: $ans"
}
start_child; start_child
p1=${pids[0]} p2=${pids[1]}

# --- the table: exactly the two, sizes in exact bytes when piped, totals line ---
"$MEMLENS" ps --pgrep "$tag" -f >"$tmp/t" 2>"$tmp/e"; rc=$?
[ $rc -eq 0 ] || fail "ps exit $rc: $(cat "$tmp/e")"
head -1 "$tmp/t" | grep -q '^ *PID USER  *RSS  *PSS  *USS  *SWAPPSS  *ANON  *FILE  *SHMEM COMMAND$' || fail "header: $(head -1 "$tmp/t")"
got=$(awk 'NR>1 && !/total \(/ && $1 ~ /^[0-9]+$/ {print $1}' "$tmp/t" | sort -n | tr '\n' ' ')
want=$(printf '%s\n' "$p1" "$p2" | sort -n | tr '\n' ' ')
[ "$got" = "$want" ] || fail "selected PIDs '$got', expected '$want'"
grep -q 'total (2 processes)$' "$tmp/t" || fail "totals line: $(tail -1 "$tmp/t")"

# --- JSON: the fields against what the test made, totals the sums ---
"$MEMLENS" ps --pgrep "$tag" -f --json >"$tmp/j" || fail "json exit $?"
"$PY" - "$tmp/j" "$p1" "$p2" <<'PY' || fail "json content"
import json, sys
d = json.load(open(sys.argv[1]))
want = {int(sys.argv[2]), int(sys.argv[3])}
def check(c, what):
    if not c:
        print("json:", what); sys.exit(1)
check(d["schema"] == "memlens.ps/1", "schema")
ps = d["processes"]
check({p["pid"] for p in ps} == want, "pids %r" % [p["pid"] for p in ps])
M = 1 << 20
for p in ps:
    check(p["comm"] == "python3" and p["command"].endswith("/child.py " + p["command"].split()[-2] + " " + p["command"].split()[-1]), "comm/command %r" % p)
    check(p["rss"] >= p["pss"] >= p["uss"], "rss >= pss >= uss %r" % p)
    # 16 MiB private written: in USS and in anonymous PSS
    check(p["uss"] >= 16 * M and p["pss_anon"] >= 16 * M, "private 16 MiB %r" % p)
    # 8 MiB file pages shared by two: about 4 MiB of PSS each, not in USS
    check(p["rss"] - p["uss"] >= 8 * M - 64 * 1024, "shared file pages outside USS %r" % p)
    # (shmem where TMPDIR is tmpfs)
    fs = p["pss_file"] + p["pss_shmem"]
    check(fs >= 4 * M and fs < 8 * M, "file PSS halved %r" % p)
    check(p["pss_anon"] + p["pss_file"] + p["pss_shmem"] == p["pss"], "split sums to PSS %r" % p)
    check(p["swap_pss"] == 0 or p["swap_pss"] > 0, "swap present")
t = d["totals"]
check(t["processes"] == 2, "totals count")
for k in ("rss", "pss", "uss", "pss_anon", "pss_file"):
    check(t[k] == sum(p[k] for p in ps), "totals " + k)
check(d["unreadable"] == [] and isinstance(d["exited"], int), "nothing unreadable")
PY

# --- --by name groups them; the sort puts the larger first; -p selects ---
"$MEMLENS" ps --pgrep "$tag" -f --by name --bytes >"$tmp/g" || fail "--by exit $?"
grep -Eq '^ *2 .* python3$' "$tmp/g" || fail "--by name: $(cat "$tmp/g")"
"$MEMLENS" ps -p "$p2" --bytes >"$tmp/p" || fail "-p exit $?"
[ "$(awk 'NR>1 && !/total \(/ && $1 ~ /^[0-9]+$/ {print $1}' "$tmp/p")" = "$p2" ] || fail "-p: $(cat "$tmp/p")"
"$MEMLENS" ps python3 --bytes >"$tmp/n" || fail "NAME exit $?"
grep -q "^ *$p1 " "$tmp/n" && grep -q "^ *$p2 " "$tmp/n" || fail "NAME selection: $(cat "$tmp/n")"
"$MEMLENS" ps --name python --bytes --pgrep "$tag" -f --no-totals >"$tmp/n2" || fail "--name exit $?"
[ "$(wc -l <"$tmp/n2")" -eq 1 ] || fail "--name is exact, not a prefix: $(cat "$tmp/n2")"
grow 1 33554432
"$MEMLENS" ps --pgrep "$tag" -f --sort=uss --bytes --no-totals >"$tmp/s" || fail "--sort exit $?"
[ "$(awk 'NR==2 {print $1}' "$tmp/s")" = "$p1" ] || fail "--sort=uss must put the larger first: $(cat "$tmp/s")"
"$MEMLENS" ps --pgrep "$tag" -f --sort=uss -r --bytes --no-totals >"$tmp/s" || fail "-r exit $?"
[ "$(awk 'NR==2 {print $1}' "$tmp/s")" = "$p2" ] || fail "-r must reverse: $(cat "$tmp/s")"
"$MEMLENS" ps --pgrep "$tag" -f --user "$(id -un)" --no-totals --bytes >"$tmp/u" || fail "--user exit $?"
[ "$(wc -l <"$tmp/u")" -eq 3 ] || fail "--user: $(cat "$tmp/u")"

# --- a PID that does not exist, named with -p: exit 1, named on stderr ---
"$MEMLENS" ps -p 1073741800 >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 1 ] || fail "-p missing pid exit $rc"
grep -q 'pid 1073741800' "$tmp/e" || fail "missing pid not named: $(cat "$tmp/e")"

# --- unreadable processes: an unprivileged user against root's children ---
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  ml_nobody_stage || fail "cannot stage memlens for an unprivileged user"
  nb() { setpriv --reuid=65534 --regid=65534 --clear-groups "${NB_MEMLENS[@]}" "$@"; }
  nb ps --pgrep "$tag" -f --bytes >"$tmp/o" 2>"$tmp/e"; rc=$?
  [ $rc -eq 0 ] || fail "whole-machine view denied root's processes: exit $rc, expected 0: $(cat "$tmp/e")"
  grep -q "^memlens ps: 2 processes not read: .*$p1 (python3: permission denied)" "$tmp/e" \
    && grep -q "$p2 (python3: permission denied)" "$tmp/e" || fail "denied processes not named: $(cat "$tmp/e")"
  [ "$(wc -l <"$tmp/e")" -eq 1 ] || fail "the summary must be one line: $(cat "$tmp/e")"
  grep -q "^ *$p1 " "$tmp/o" && fail "a denied process printed a row"
  nb ps --pgrep "$tag" -f --strict >/dev/null 2>&1; rc=$?
  [ $rc -eq 1 ] || fail "--strict with denied processes exit $rc, expected 1"
  nb ps -p "$p1" >/dev/null 2>&1; rc=$?
  [ $rc -eq 1 ] || fail "-p of a denied process exit $rc, expected 1"
  nb ps --pgrep "$tag" -f --json 2>/dev/null | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert d["processes"] == [], d
assert sorted(u["pid"] for u in d["unreadable"]) == sorted(map(int, sys.argv[1:])), d
assert all(u["error"] == "permission denied" and u["examined"] for u in d["unreadable"]), d' "$p1" "$p2" || fail "JSON unreadable list"

  # --- /proc mounted with hidepid=1: another user's /proc/PID cannot even be opened. Such
  # processes are still counted and named (their PIDs are known), never dropped ---
  if ! unshare -m --propagation private sh -c 'mount -t proc -o hidepid=1 proc /proc' 2>"$tmp/e"; then
    ml_not_run "no private mount namespace with a hidepid=1 /proc here: $(head -1 "$tmp/e")"
  else
    hp() { # memlens as uid 65534 with /proc mounted hidepid=1 in a private mount namespace
      unshare -m --propagation private bash -c \
        'mount -t proc -o hidepid=1 proc /proc || exit 90; exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"' \
        hp "${NB_MEMLENS[@]}" "$@"
    }
    hp ps --pgrep "$tag" -f --json >"$tmp/j" 2>"$tmp/e"; rc=$?
    [ $rc -eq 0 ] || fail "hidepid: filtered view exit $rc, expected 0 (denied only): $(cat "$tmp/e")"
    "$PY" - "$tmp/j" "$p1" "$p2" <<'PY' || fail "hidepid: JSON unreadable list"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["processes"] == [], d
u = {x["pid"]: x for x in d["unreadable"]}
for pid in map(int, sys.argv[2:]):
    # listed but not examined: neither its comm nor whether it matches is known
    assert pid in u, ("not named", pid, d["unreadable"][:5])
    assert u[pid]["examined"] is False and u[pid]["comm"] is None, u[pid]
    assert u[pid]["error"] == "operation not permitted", u[pid]
PY
    [ "$(wc -l <"$tmp/e")" -eq 1 ] || fail "hidepid: one summary line expected: $(cat "$tmp/e")"
    grep -Eq "^memlens ps: [0-9]+ processes not examined: .*\b$p1\b.*hidepid.*whether they match the selection is unknown" "$tmp/e" \
      && grep -Eq "\b$p2\b" "$tmp/e" || fail "hidepid: denied processes not named: $(cat "$tmp/e")"
    hp ps --pgrep "$tag" -f --strict >/dev/null 2>&1; rc=$?
    [ $rc -eq 1 ] || fail "hidepid: --strict exit $rc, expected 1"
    # -p names the real cause, not "no such process"
    hp ps -p "$p1" >/dev/null 2>"$tmp/e"; rc=$?
    [ $rc -eq 1 ] || fail "hidepid: -p of a denied process exit $rc, expected 1"
    grep -q "not listed\|no such process" "$tmp/e" && fail "hidepid: -p calls a denied process absent: $(cat "$tmp/e")"
    grep -Eq "^memlens ps: 1 process not examined: $p1: operation not permitted \(/proc is mounted with hidepid" "$tmp/e" \
      || fail "hidepid: -p cause: $(cat "$tmp/e")"
    hp ps -p "$p1" --prometheus 2>/dev/null >"$tmp/m"
    grep -qx 'memlens_ps_unreadable_processes 1' "$tmp/m" && grep -qx 'memlens_ps_unexamined_processes 1' "$tmp/m" \
      || fail "hidepid: prometheus counts: $(grep '^memlens_ps' "$tmp/m")"
    # the whole machine: named, exit 0 as for any process denied to a non-root view
    hp ps --bytes >/dev/null 2>"$tmp/e"; rc=$?
    [ $rc -eq 0 ] || fail "hidepid: whole-machine view exit $rc: $(cat "$tmp/e")"
    grep -Eq "not examined: .*\b$p1\b.*kernel threads among them cannot be told apart" "$tmp/e" \
      || fail "hidepid: whole-machine summary: $(cat "$tmp/e")"
  fi
  ml_nobody_clean
else
  ml_not_run "not root or no setpriv: the unreadable-process test did not run"
fi

# --- smem on the same processes: the same PSS and USS within the noise of a live system ---
if command -v smem >/dev/null; then
  # smem's filter matches smem's own command line too: its PID is left out
  smem -c "pid pss uss rss" -H -P "$tag" >"$tmp/smem" 2>"$tmp/smemerr" &
  smem_pid=$!
  wait "$smem_pid" || fail "smem failed: $(cat "$tmp/smemerr")"
  "$MEMLENS" ps --pgrep "$tag" -f --json >"$tmp/j" || fail "json exit $?"
  "$PY" - "$tmp/j" "$tmp/smem" "$smem_pid" "$p1" "$p2" <<'PY' || fail "smem comparison"
import json, sys
d = json.load(open(sys.argv[1]))
ours = {p["pid"]: p for p in d["processes"]}
smem = {}
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) == 4 and f[0].isdigit() and f[0] != sys.argv[3]:
        smem[int(f[0])] = {"pss": int(f[1]) * 1024, "uss": int(f[2]) * 1024, "rss": int(f[3]) * 1024}
# the same processes: what smem's filter finds is what --pgrep -f found
if set(smem) != set(ours):
    print("smem listed %s, memlens %s" % (sorted(smem), sorted(ours))); sys.exit(1)
for pid in map(int, sys.argv[4:]):
    if pid not in smem:
        print("smem did not list", pid, smem); sys.exit(1)
    o, m = ours[pid], smem[pid]
    # smem sums smaps per mapping in whole kB (each rounded down), the rollup rounds once:
    # up to 1 kB per mapping apart; the children are idle, so RSS and USS agree to that
    tol = 256 * 1024 + o["rss"] // 100
    for k in ("uss", "rss"):
        if abs(o[k] - m[k]) > tol:
            print("pid %d %s: memlens %d, smem %d" % (pid, k, o[k], m[k])); sys.exit(1)
    # PSS: while smem (a python3 itself) runs, it maps the children's python libraries too,
    # so each shared page is divided among one process more: the children's PSS under smem
    # is lower by at most half of their shared pages (RSS - USS), never higher
    shared = o["rss"] - o["uss"]
    if not (m["pss"] - tol <= o["pss"] <= m["pss"] + shared // 2 + tol):
        print("pid %d pss: memlens %d, smem %d (shared %d)" % (pid, o["pss"], m["pss"], shared)); sys.exit(1)
print("smem agrees on", sorted(smem.keys() & ours.keys()))
PY
else
  echo "SKIP: smem is not installed (scripts/deps.sh installs it): the smem comparison is what this test is for"
  exit 77
fi
echo "ps: ok"
ml_done
