#!/usr/bin/python3
"""NuGet oracle, written from NuGet's published rules because no NuGet.Versioning
is packaged for Debian (Debian's `nuget` is NuGet 2.8.7, whose
SemanticVersion predates SemVer 2.0 labels, and needs Mono).

The rules, from "Package versioning" in the NuGet documentation (versions
of NuGet 4.3 and later, which follow SemVer 2.0.0):
  * a version is Major.Minor[.Patch[.Revision]] with an optional
    "-label" pre-release part and "+metadata"; missing numeric parts are
    0 and leading zeros are not significant ("1.01" == "1.1.0.0");
  * a version without a label sorts after every label of the same number;
  * labels compare dot-separated identifier by identifier: numeric ones
    by value, alphanumeric ones ordinally without regard to case, a
    numeric identifier before an alphanumeric one, and a label that is a
    prefix of another before it;
  * build metadata is ignored.
Numeric pre-release identifiers with leading zeros are invalid in SemVer
2.0.0; this oracle rejects them. See oracle_common.py for the protocol.
"""
import re

import oracle_common

IDENT = r"[0-9A-Za-z-]+"
PATTERN = re.compile(
    r"^(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-(" + IDENT + r"(?:\." + IDENT + r")*))?"
    r"(?:\+(" + IDENT + r"(?:\." + IDENT + r")*))?$")


def parse(s):
    m = PATTERN.match(s)
    if not m:
        return None
    nums = tuple(int(g or 0) for g in m.groups()[:4])
    label = m.group(5)
    idents = label.split(".") if label else []
    for i in idents:
        if i.isdigit() and len(i) > 1 and i[0] == "0":
            return None
    return nums, idents


def valid(s):
    return parse(s) is not None


def cmp_ident(a, b):
    an, bn = a.isdigit(), b.isdigit()
    if an and bn:
        return (int(a) > int(b)) - (int(a) < int(b))
    if an != bn:
        return -1 if an else 1
    x, y = a.lower(), b.lower()
    return (x > y) - (x < y)


def compare(a, b):
    (na, la), (nb, lb) = parse(a), parse(b)
    if na != nb:
        return -1 if na < nb else 1
    if not la or not lb:
        return (not la) - (not lb)
    for x, y in zip(la, lb):
        c = cmp_ident(x, y)
        if c:
            return c
    return (len(la) > len(lb)) - (len(la) < len(lb))


if __name__ == "__main__":
    oracle_common.main(valid, compare)
