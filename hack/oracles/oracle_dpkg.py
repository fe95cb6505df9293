#!/usr/bin/python3
"""Debian oracle: dpkg --compare-versions, one process per comparison.
See oracle_common.py for the protocol."""
import subprocess

import oracle_common


def holds(a, op, b):
    r = subprocess.run(["dpkg", "--compare-versions", a, op, b],
                       capture_output=True, text=True)
    if r.returncode > 1 or "bad syntax" in r.stderr or "error" in r.stderr:
        raise ValueError(r.stderr)
    return r.returncode == 0


def valid(s):
    try:
        holds(s, "eq", s)
    except ValueError:
        return False
    return s != ""


def compare(a, b):
    if holds(a, "lt", b):
        return -1
    if holds(a, "eq", b):
        return 0
    return 1


if __name__ == "__main__":
    oracle_common.main(valid, compare)
