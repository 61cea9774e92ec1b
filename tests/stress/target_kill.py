#!/usr/bin/env python3
"""Target SIGKILLed at random moments while memlens dump, grep, wss, maps and read work on it.

Bad outcomes: a crash (signal) or hang (30 s), an exit code other than 0/1/2, an exit 2
without a message, an empty or short result with exit 0 (0 mappings, a grep "no match" for
a needle the target holds, fewer bytes than asked), "exec'd" said of a killed process, a
dump that exits 0 with a file that does not verify, or exits non-zero leaving anything at
the -o path or in its directory.

usage: target_kill.py [RUNS_PER_COMMAND (default 200)] [COMMAND...]
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stresslib import NEEDLE, Tally, memlens_path, report, run, seed, start_target  # noqa: E402

M = memlens_path()
MB = 24


def biggest_rw(pid):
    best = None
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split()
            if parts[1].startswith("rw") and len(parts) < 6:
                a, b = (int(x, 16) for x in parts[0].split("-"))
                if not best or b - a > best[1] - best[0]:
                    best = (a, b)
    return best


def command(name, pid, tmp):
    if name == "maps":
        return [M, "maps", str(pid)]
    if name == "maps-json":
        return [M, "maps", "--json", str(pid)]
    if name == "grep":
        return [M, "grep", "-c", NEEDLE.decode(), str(pid)]
    if name == "wss":
        return [M, "wss", "-i", "100ms", str(pid)]
    if name == "read":
        a, b = biggest_rw(pid)
        return [M, "read", "--raw", str(pid), "%x" % a, str(b - a)]
    if name == "dump":
        return [M, "dump", "-q", "-o", os.path.join(tmp, "out.mlcore"), str(pid)]
    raise ValueError(name)


def judge(name, argv, rc, out, err, tmp):
    e = err.decode(errors="replace")
    if rc is None:
        return "hang"
    if rc < 0:
        return "killed by signal %d" % -rc
    if rc not in (0, 1, 2):
        return "exit %d" % rc
    if rc != 0 and not e.strip():
        return "exit %d without a message" % rc
    if "exec'd" in e:
        return "says exec'd of a killed process: " + e
    if name == "maps" and rc == 0:
        tail = out.decode(errors="replace").strip().splitlines()[-1:]
        if not tail or tail[0].split()[-2:] == ["0", "mappings"] or " 0 mappings" in tail[0]:
            return "exit 0 with 0 mappings"
    if name == "maps-json" and rc == 0:
        if not json.loads(out)["mappings"]:
            return "exit 0 with 0 mappings"
    if name == "grep":
        if rc == 1 and not e.strip():
            return "no match, nothing on stderr, for a needle the target holds"
        if rc == 0 and out.decode().strip().endswith(":0"):
            return "exit 0 with a count of 0"
    if name == "read" and rc == 0 and len(out) != int(argv[-1]):
        return "exit 0 with %d of %s bytes" % (len(out), argv[-1])
    if name == "wss" and rc == 0 and not out.strip():
        return "exit 0 without a sample"
    if name == "dump":
        path = argv[argv.index("-o") + 1]
        left = os.listdir(tmp)
        if rc == 0:
            vrc, _, verr = run([M, "core", "verify", path])
            if vrc != 0:
                return "exit 0 but the file does not verify: " + verr.decode(errors="replace")
            os.unlink(path)
        elif left:
            return "exit %d left %s" % (rc, left)
    return None


def calibrate(name, tmp):
    t = start_target(MB)
    try:
        argv = command(name, t.pid, tmp)
        t0 = time.monotonic()
        rc, out, err = run(argv)
        dt = time.monotonic() - t0
        if rc != 0:
            sys.exit("calibration of %s failed: exit %s %s" % (name, rc, err.decode(errors="replace")))
    finally:
        t.kill()
        t.wait()
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    return dt


def main():
    args = sys.argv[1:]
    runs = int(args.pop(0)) if args and args[0].isdigit() else 200
    names = args or ["maps", "maps-json", "grep", "wss", "read", "dump"]
    seed()
    tallies = []
    tmp = tempfile.mkdtemp(prefix="memlens-tkill.")
    try:
        for name in names:
            cal = calibrate(name, tmp)
            print("%s: a full run takes %.1f ms; kills spread over [0, %.1f ms]" % (name, cal * 1e3, cal * 1e3),
                  flush=True)
            tally = Tally(name)
            for _ in range(runs):
                t = start_target(MB)
                argv = command(name, t.pid, tmp)
                # a fifth of the kills land as memlens starts: the open itself
                delay = 0 if random.random() < 0.2 else random.uniform(0, cal)
                reap_now = random.random() < 0.5
                p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                if delay:
                    time.sleep(delay)
                t.kill()
                if reap_now:
                    t.wait()
                try:
                    out, err = p.communicate(timeout=30)
                    rc = p.returncode
                except subprocess.TimeoutExpired:
                    p.kill()
                    out, err = p.communicate()
                    rc = None
                t.wait()
                why = judge(name, argv, rc, out, err, tmp)
                tally.add(why, "(delay %.2f ms, %s) %s" % (delay * 1e3, "reaped" if reap_now else "zombie",
                                                             err.decode(errors="replace").strip()))
                for f in os.listdir(tmp):
                    os.unlink(os.path.join(tmp, f))
            print(tally.line(), flush=True)
            tallies.append(tally)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report(tallies)


if __name__ == "__main__":
    sys.exit(main())
