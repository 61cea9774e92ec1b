"""Shared pieces of the stress campaigns: a target process with known memory, running
memlens with a time limit, and the tally every campaign prints ("N tried, N ok, N bad")."""
import os
import random
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
NEEDLE = b"HCLI-STRESS-NEEDLE-4d1f"

# A target: MB megabytes of written memory (random, so it does not compress away), the needle
# at the start and the end of it; prints its PID once ready, then waits.
TARGET = r"""
import os, sys, time
mb = int(sys.argv[1])
needle = sys.argv[2].encode()
buf = bytearray(os.urandom(1 << 20)) * mb
buf[100:100 + len(needle)] = needle
buf[-200:-200 + len(needle)] = needle
print(os.getpid(), flush=True)
time.sleep(3600)
"""


def memlens_path():
    p = os.environ.get("MEMLENS") or os.path.join(SRC, "build", "tools", "memlens")
    if not os.access(p, os.X_OK):
        sys.exit("memlens not found: set MEMLENS or build first (bash scripts/build.sh)")
    return p


def start_target(mb, needle=NEEDLE):
    t = subprocess.Popen([sys.executable, "-c", TARGET, str(mb), needle.decode()],
                         stdout=subprocess.PIPE)
    line = t.stdout.readline()
    if not line:
        raise RuntimeError("target did not start")
    return t


def proc_status(pid):
    """State letter and TracerPid of @pid, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            st = {k: v.strip() for k, v in (l.split(":", 1) for l in f if ":" in l)}
        return st["State"][0], int(st["TracerPid"])
    except (OSError, KeyError, ValueError):
        return None


def run(argv, timeout=30, **kw):
    """Runs argv; returns (rc, stdout, stderr); rc None for a hang (killed after timeout)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out, err
    return p.returncode, out, err


class Tally:
    def __init__(self, name):
        self.name, self.tried, self.ok, self.bad, self.notes = name, 0, 0, 0, []

    def add(self, bad_reason, detail=""):
        self.tried += 1
        if bad_reason:
            self.bad += 1
            # at once, so that a long campaign that is stopped still tells what it found
            print("  bad: %s: %s %s" % (self.name, bad_reason, detail[:300]), flush=True)
            if len(self.notes) < 20:
                self.notes.append("%s: %s %s" % (self.name, bad_reason, detail[:300]))
        else:
            self.ok += 1

    def line(self):
        return "%s: %d tried, %d ok, %d bad" % (self.name, self.tried, self.ok, self.bad)


def report(tallies):
    tried = sum(t.tried for t in tallies)
    ok = sum(t.ok for t in tallies)
    bad = sum(t.bad for t in tallies)
    for t in tallies:
        print(t.line())
        for n in t.notes:
            print("  bad: " + n)
    print("total: %d tried, %d ok, %d bad" % (tried, ok, bad))
    return 1 if bad else 0


def seed():
    s = int(os.environ.get("ML_STRESS_SEED", time.time_ns() % 1000000))
    random.seed(s)
    print("seed %d (ML_STRESS_SEED to repeat)" % s)
    return s
