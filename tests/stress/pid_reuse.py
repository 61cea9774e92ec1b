#!/usr/bin/env python3
"""Forced PID reuse during long grep and wss runs: the target is SIGKILLed and reaped while
memlens works on it, and its PID handed at once to an impostor (via
/proc/sys/kernel/ns_last_pid) whose memory holds a needle the target never held.

Bad outcomes: grep finds the impostor's needle (any hit, or exit 0); wss exits 0 with a
sample although its target died inside the window (what it measured was the impostor); a
crash or hang. The kill comes only once memlens holds a pidfd on the target (until then
the PID is only a number to it, and an impostor that takes it first is the process it was
asked about); a run where memlens did not get that far, where it had already ended when the
kill came (the driver was not scheduled in time, or was stopped), or where another process
took the PID first, is not counted.

usage: pid_reuse.py [RUNS_PER_COMMAND (default 100)] [grep|wss...]
"""
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stresslib import Tally, memlens_path, proc_status, report, seed, start_target  # noqa: E402

M = memlens_path()
# Only this driver's memory holds these bytes, so only a fork of it (the impostor) does.
BIND_MS = []  # how long after its start each memlens held its pidfd on the target
IMPOSTOR = b"IMPOSTOR-" + b"%x" % 0x5eed1e55 + b"-MEMORY"
NS_LAST_PID = "/proc/sys/kernel/ns_last_pid"


def impostor_at(pid):
    """Forks a child that gets @pid, if nothing else takes it first; returns its PID."""
    try:
        with open(NS_LAST_PID, "w") as f:
            f.write(str(pid - 1))
    except OSError:
        return None
    c = os.fork()
    if c == 0:
        keep = bytearray(IMPOSTOR) * 4096  # noqa: F841 (the impostor's memory)
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
        time.sleep(60)
        os._exit(0)
    return c


def bound(mpid, pid, timeout=20):
    """Waits until process @mpid holds a pidfd on @pid; False if it exits or time runs out."""
    want = "Pid:\t%d\n" % pid
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            fds = os.listdir("/proc/%d/fd" % mpid)
        except OSError:
            return False
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (mpid, fd)) != "anon_inode:[pidfd]":
                    continue
                with open("/proc/%d/fdinfo/%s" % (mpid, fd)) as f:
                    if want in f.read():
                        return True
            except OSError:
                continue
        st = proc_status(mpid)
        if st is None or st[0] == "Z":
            return False
        time.sleep(0.001)
    return False


def one(name, window):
    t = start_target(64)
    pid = t.pid
    if name == "grep":
        argv = [M, "grep", "-j1", "-c", IMPOSTOR.decode(), str(pid)]
    else:
        argv = [M, "wss", "-i", "%dms" % int(window * 1e3), str(pid)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    if bound(p.pid, pid):
        BIND_MS.append((time.monotonic() - t0) * 1e3)
    else:
        p.kill()
        p.communicate()
        t.kill()
        t.wait()
        return "skip", "memlens did not open the target"
    time.sleep(random.uniform(0.2, 0.8) * window)
    if p.poll() is not None:
        # memlens finished before the kill (this driver was not scheduled, or was stopped):
        # what it printed was the target's, and nothing was tested
        p.communicate()
        t.kill()
        t.wait()
        return "skip", "memlens ended before the kill"
    t.kill()
    t.wait()
    imp = impostor_at(pid)
    try:
        try:
            out, err = p.communicate(timeout=60)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            rc = None
    finally:
        if imp:
            os.kill(imp, signal.SIGKILL)
            os.waitpid(imp, 0)
    if imp != pid:
        return "skip", ""
    e = err.decode(errors="replace").strip()
    if rc is None or rc < 0:
        return "hang or crash (%s)" % rc, e
    if name == "grep":
        o = out.decode(errors="replace").strip()
        if rc == 0 or (o and not o.endswith(":0")):
            return "read the impostor: %s" % o, e
    elif rc == 0:
        return "exit 0 with a sample across its target's death: %s" % out.decode(errors="replace")[-200:], e
    # grep's exit 1 alone is "no match": right when the scan ended before the kill
    if rc != 0 and not e and not (name == "grep" and rc == 1):
        return "exit %s without a message" % rc, e
    return None, e


def main():
    if not os.access(NS_LAST_PID, os.W_OK):
        print("SKIP: %s is not writable here" % NS_LAST_PID)
        return 0
    args = sys.argv[1:]
    runs = int(args.pop(0)) if args and args[0].isdigit() else 100
    names = args or ["grep", "wss"]
    seed()
    tallies = []
    for name in names:
        # grep: as long as a 64 MiB scan takes here; wss: a 1 s window
        window = 1.0
        if name == "grep":
            t = start_target(64)
            p = subprocess.Popen([M, "grep", "-j1", "-c", IMPOSTOR.decode(), str(t.pid)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not bound(p.pid, t.pid):
                sys.exit("calibration: memlens grep never held a pidfd on its target")
            t0 = time.monotonic()
            p.wait()
            window = time.monotonic() - t0
            t.kill()
            t.wait()
        print("%s: kills at 20-80 %% of %.0f ms after memlens holds a pidfd on the target" % (name, window * 1e3),
              flush=True)
        tally = Tally("pid reuse: " + name)
        skipped = 0
        while tally.tried < runs:
            why, e = one(name, window)
            if why == "skip":
                skipped += 1
                if skipped > 10 * runs:
                    break
                continue
            tally.add(why, e)
        b = sorted(BIND_MS)
        if b:
            print("%s: memlens held its pidfd on the target %.0f ms after its start (median), %.0f ms at most"
                  % (name, b[len(b) // 2], b[-1]))
        del BIND_MS[:]
        print("%s (%d runs not counted: memlens not started on the target or ended before the kill, or the PID went to another process first)"
              % (tally.line(), skipped),
              flush=True)
        tallies.append(tally)
    return report(tallies)


if __name__ == "__main__":
    sys.exit(main())
