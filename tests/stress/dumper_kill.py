#!/usr/bin/env python3
"""memlens dump SIGKILLed at random moments.

Bad outcomes: the target left stopped (state T/t) or traced (TracerPid != 0) once the
dumper is gone, anything at the -o path, a leftover not named .NAME.XXXXXXXX.tmp, or a
leftover that the next dump of the same name does not remove. Every tenth run replaces an
existing file (--force: the rename path); the old file must then be intact.

usage: dumper_kill.py [RUNS (default 300)] [--fallback]
  --fallback  runs in a directory without O_TMPFILE... (not offered: tmpfs and ext4 have it;
              the named-temporary path is covered by the --force runs)
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stresslib import Tally, memlens_path, proc_status, report, run, seed, start_target  # noqa: E402

M = memlens_path()
TEMP = re.compile(r"^\.out\.mlcore\.[A-Za-z0-9]{8}\.tmp$")


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    seed()
    tmp = tempfile.mkdtemp(prefix="memlens-dkill.")
    out = os.path.join(tmp, "out.mlcore")
    tally = Tally("dump killed")
    published_then_killed = [0]
    t = start_target(48)
    try:
        argv = [M, "dump", "-q", "-o", out, str(t.pid)]
        t0 = time.monotonic()
        rc, _, err = run(argv)
        cal = time.monotonic() - t0
        if rc != 0:
            sys.exit("calibration failed: %s" % err.decode(errors="replace"))
        os.unlink(out)
        print("a full dump takes %.1f ms; kills spread over [0, %.1f ms]" % (cal * 1e3, cal * 1.2e3), flush=True)
        for i in range(runs):
            force = i % 10 == 9
            if force:
                with open(out, "wb") as f:
                    f.write(b"old file\n")
            a = [M, "dump", "-q"] + (["--force"] if force else []) + ["-o", out, str(t.pid)]
            p = subprocess.Popen(a, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            delay = random.uniform(0, cal * 1.2)
            time.sleep(delay)
            p.kill()
            _, err = p.communicate()
            why = None
            st = proc_status(t.pid)
            if st is None:
                why = "target gone"
            elif st[0] in "Tt":
                why = "target left stopped (%s)" % st[0]
            elif st[1] != 0:
                why = "target left traced by %d" % st[1]
            finished = p.returncode == 0
            names = sorted(os.listdir(tmp))
            if not why:
                if force:
                    data = open(out, "rb").read() if os.path.exists(out) else b""
                    if not finished and data != b"old file\n":
                        why = "killed --force dump changed the old file"
                elif os.path.exists(out) and not finished:
                    # killed after the publish: the file must then be complete
                    vrc, _, verr = run([M, "core", "verify", out])
                    if vrc != 0:
                        why = "a killed dump left an incomplete file at the -o path: %s" % verr.decode(errors="replace")
                    else:
                        published_then_killed[0] += 1
                stray = [n for n in names if n != "out.mlcore" and not TEMP.match(n)]
                if stray:
                    why = "leftovers with other names: %s" % stray
            if not why and finished:
                vrc, _, verr = run([M, "core", "verify", out])
                if vrc != 0:
                    why = "completed dump does not verify: %s" % verr.decode(errors="replace")
            temps = [n for n in names if TEMP.match(n)]
            if not why and temps:
                # the next run of the same name must clear them
                if os.path.exists(out):
                    os.unlink(out)
                rc, _, err2 = run([M, "dump", "-q", "-o", out, str(t.pid)])
                left = [n for n in os.listdir(tmp) if TEMP.match(n)]
                if rc != 0 or left:
                    why = "the next dump did not clear %s (exit %s)" % (left, rc)
            tally.add(why, "(kill at %.1f ms, exit %s%s)" % (delay * 1e3, p.returncode,
                                                            ", --force" if force else ""))
            for n in os.listdir(tmp):
                os.unlink(os.path.join(tmp, n))
            if st is None:
                break
    finally:
        t.kill()
        t.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("killed after publishing a complete file: %d" % published_then_killed[0])
    return report([tally])


if __name__ == "__main__":
    sys.exit(main())
