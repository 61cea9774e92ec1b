#!/usr/bin/env python3
"""Disk full: dump, core expand and core export into a small tmpfs (mounted here, needs
root) of many sizes, from too small for anything to large enough.

Bad outcomes: exit 0 with a file that does not verify (dump) or differs from the full-size
output (expand, export); a non-zero exit without a clear "no space" message naming the file;
anything left in the file system after a failure (df back to what it was).

usage: disk_full.py [SIZES (default 200)]
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stresslib import Tally, memlens_path, report, run, seed, start_target  # noqa: E402

M = memlens_path()


def used(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root to mount a tmpfs")
        return 0
    nsizes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seed()
    work = tempfile.mkdtemp(prefix="memlens-dfull.")
    mnt = os.path.join(work, "mnt")
    os.mkdir(mnt)
    t = start_target(16)
    tallies = {k: Tally("disk full: " + k) for k in ("dump", "core expand", "core export")}
    try:
        snap = os.path.join(work, "ref.mlcore")
        rc, _, err = run([M, "dump", "-q", "-o", snap, str(t.pid)])
        if rc != 0:
            sys.exit("reference dump failed: " + err.decode(errors="replace"))
        ref = {}
        for k, a in (("core expand", ["core", "expand"]), ("core export", ["core", "export"])):
            p = os.path.join(work, k.replace(" ", "_"))
            rc, _, err = run([M] + a + ["-o", p, snap])
            if rc != 0:
                sys.exit("reference %s failed: %s" % (k, err.decode(errors="replace")))
            ref[k] = (sha(p), os.path.getsize(p), os.stat(p).st_blocks * 512)
        need = {"dump": os.path.getsize(snap) + (2 << 20), "core expand": ref["core expand"][2] + (1 << 20),
                "core export": ref["core export"][1] + (1 << 20)}
        print("sizes: snapshot %d, expanded core %d (%d allocated), export %d bytes" %
              (os.path.getsize(snap), ref["core expand"][1], ref["core expand"][2], ref["core export"][1]))
        for k in tallies:
            top = need[k]
            for i in range(nsizes):
                size = max(4096, (top * (i + 1) // nsizes) // 4096 * 4096)
                subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", mnt], check=True)
                try:
                    base = used(mnt)
                    out = os.path.join(mnt, "out")
                    if k == "dump":
                        argv = [M, "dump", "-q", "-o", out, str(t.pid)]
                    else:
                        argv = [M] + k.split() + ["-o", out, snap]
                    rc, _, err = run(argv, timeout=120)
                    e = err.decode(errors="replace")
                    why = None
                    if rc is None or rc < 0:
                        why = "hang or crash (%s)" % rc
                    elif rc == 0:
                        if k == "dump":
                            vrc, _, verr = run([M, "core", "verify", out])
                            if vrc != 0:
                                why = "exit 0, file does not verify: " + verr.decode(errors="replace")
                        elif sha(out) != ref[k][0]:
                            why = "exit 0, output differs from the full-size one"
                    else:
                        if rc != 2:
                            why = "exit %d" % rc
                        elif "no space" not in e or out not in e:
                            why = "message does not say no space and name the file: " + e.strip()
                        elif os.listdir(mnt):
                            why = "left %s" % os.listdir(mnt)
                        elif used(mnt) != base:
                            why = "space not returned: %d bytes still used" % (used(mnt) - base)
                    tallies[k].add(why, "(tmpfs %d bytes, exit %s) %s" % (size, rc, e.strip()))
                finally:
                    subprocess.run(["umount", mnt], check=True)
            print(tallies[k].line(), flush=True)
    finally:
        t.kill()
        t.wait()
        subprocess.run(["umount", mnt], stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
    return report(list(tallies.values()))


if __name__ == "__main__":
    sys.exit(main())
