#!/usr/bin/python3
"""PyPI oracle: PEP 440 as implemented by Debian's python3-packaging
(packaging.version.Version). See oracle_common.py for the protocol."""
from packaging.version import InvalidVersion, Version

import oracle_common


def valid(s):
    try:
        Version(s)
    except InvalidVersion:
        return False
    return True


def compare(a, b):
    x, y = Version(a), Version(b)
    return (x > y) - (x < y)


if __name__ == "__main__":
    oracle_common.main(valid, compare)
