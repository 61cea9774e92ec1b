#!/usr/bin/env python3
"""Forced PID reuse during long grep and wss runs: the target is SIGKILLed and reaped while
memlens works on it, and its PID handed at once to an impostor (via
/proc/sys/kernel/ns_last_pid) whose memory holds a needle the target never held.

Bad outcomes: grep finds the impostor's needle (any hit, or exit 0); wss exits 0 with a
sample although its target died inside the window (what it measured was the impostor); a
crash or hang. A run where another process took the PID first is not counted.

usage: pid_reuse.py [RUNS_PER_COMMAND (default 100)] [grep|wss...]
"""
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stresslib import Tally, memlens_path, report, seed, start_target  # noqa: E402

M = memlens_path()
# Only this driver's memory holds these bytes, so only a fork of it (the impostor) does.
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


def one(name, window):
    t = start_target(64)
    pid = t.pid
    if name == "grep":
        argv = [M, "grep", "-j1", "-c", IMPOSTOR.decode(), str(pid)]
    else:
        argv = [M, "wss", "-i", "%dms" % int(window * 1e3), str(pid)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(random.uniform(0.2, 0.8) * window)
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
            t0 = time.monotonic()
            subprocess.run([M, "grep", "-j1", "-c", IMPOSTOR.decode(), str(t.pid)], capture_output=True)
            window = time.monotonic() - t0
            t.kill()
            t.wait()
        print("%s: kills at 20-80 %% of %.0f ms" % (name, window * 1e3), flush=True)
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
        print("%s (%d runs not counted: the PID went to another process first)" % (tally.line(), skipped),
              flush=True)
        tallies.append(tally)
    return report(tallies)


if __name__ == "__main__":
    sys.exit(main())
