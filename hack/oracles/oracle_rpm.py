#!/usr/bin/python3
"""RPM oracle: rpm's own EVR parser (rpm.ver) and rpm.labelCompare from
python3-rpm. See oracle_common.py for the protocol."""
import rpm

import oracle_common


def evr(s):
    v = rpm.ver(s)
    return (v.e, v.v, v.r)


def compare(a, b):
    return rpm.labelCompare(evr(a), evr(b))


if __name__ == "__main__":
    oracle_common.main(lambda s: True, compare)
