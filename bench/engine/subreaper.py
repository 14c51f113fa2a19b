#!/usr/bin/env python3
"""Runs one command as a child subreaper and reports its whole-tree cost.

    subreaper.py OUT_JSON COMMAND [ARG ...]

Plugins started by the Pulumi CLI can outlive the process that started them (a language host that exits before its
node child is reaped): such orphans are re-parented to init and their CPU time is lost to getrusage(RUSAGE_CHILDREN)
of whoever started the CLI. With PR_SET_CHILD_SUBREAPER they are re-parented here instead, reaped here, and counted.
Writes {"code", "wall", "cpu", "user", "sys", "lingerWall"} to OUT_JSON: wall is until COMMAND itself exits, cpu is
every process of the tree; lingerWall is how long the last orphan outlived COMMAND.
"""
import ctypes
import json
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main() -> int:
    out, cmd = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    code = None
    wall = None
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid == proc.pid:
            wall = time.monotonic() - start
            code = os.waitstatus_to_exitcode(status)
            proc.returncode = code
    linger = time.monotonic() - start - (wall or 0.0)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(
            {
                "code": code,
                "wall": wall,
                "cpu": ru.ru_utime + ru.ru_stime,
                "user": ru.ru_utime,
                "sys": ru.ru_stime,
                "lingerWall": linger,
            },
            f,
        )
    return 0 if code is None else (code if code >= 0 else 128 - code)


if __name__ == "__main__":
    sys.exit(main())
