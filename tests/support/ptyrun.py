#!/usr/bin/env python3
"""Runs a command with its stdout and/or stderr on a pseudo-terminal (what a user's
terminal looks like to it) and the other on a pipe; writes what each stream received to
OUT and ERR and exits with the command's status.
usage: ptyrun.py {stdout|stderr|both} OUT ERR command..."""
import os, pty, subprocess, sys, termios, tty

which, out_path, err_path, argv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
master, slave = pty.openpty()
attrs = termios.tcgetattr(slave)
attrs[1] &= ~termios.OPOST  # keep the bytes as written (no \n -> \r\n)
termios.tcsetattr(slave, termios.TCSANOW, attrs)
out_pipe = which == "stderr"
err_pipe = which == "stdout"
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE if out_pipe else slave,
                     stderr=subprocess.PIPE if err_pipe else slave)
os.close(slave)
got = b""
while True:
    try:
        d = os.read(master, 65536)
    except OSError:  # EIO: every writer closed the terminal
        break
    if not d:
        break
    got += d
pipe = p.stdout or p.stderr
piped = pipe.read() if pipe else b""
rc = p.wait()
open(out_path, "wb").write(piped if out_pipe else got)
open(err_path, "wb").write(piped if err_pipe else (got if which == "stderr" else b""))
sys.exit(rc)
