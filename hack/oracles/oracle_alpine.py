#!/usr/bin/python3
"""Alpine oracle, written from apk's documented rules because apk-tools is
not packaged for Debian.

apk-package(5) gives the format, number{.number}...{letter}{_suffix{number}}...{~hash}{-r#},
and the suffix order alpha < beta < pre < rc < (none) < cvs < svn < git <
hg < p. The remaining rules are those apk-tools 3 (`apk version -t`)
applies: the versions are read as tokens, left to right, and compared
token by token while both have a token of the same kind:
  * the first number numerically; a later number numerically, unless
    either starts with "0", then as strings (as Gentoo does);
  * letters, hashes as strings; suffixes by the order above, their numbers
    and the -r revision numerically.
When one version runs out or the kinds differ, a pre-release suffix
(alpha..rc) loses; otherwise the version whose next token comes later in
the order number, letter, suffix, suffix number, hash, revision, end is the
lower one, so "1.0" < "1.0.1" and "1.0" < "1.0-r1". apk-tools 2 (Alpine up to
3.22) differs only for numbers with leading zeros, which the generated list
avoids after the first number. See oracle_common.py for the protocol.
"""
import re

import oracle_common

SUFFIXES = ["alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p"]
PRE = 4  # suffixes before this index are pre-releases
KINDS = ["first", "number", "letter", "suffix", "suffixno", "hash", "rev", "end"]
TOKEN = re.compile(r"^(\d+)((?:\.\d+)*)([a-z])?((?:_[a-z]+\d*)*)(~[0-9a-f]+)?(-r\d+)?$")


def tokens(s):
    m = TOKEN.match(s)
    if not m:
        return None
    out = [("first", int(m.group(1)), m.group(1))]
    for n in m.group(2).split(".")[1:]:
        out.append(("number", int(n), n))
    if m.group(3):
        out.append(("letter", m.group(3), m.group(3)))
    for suf in m.group(4).split("_")[1:]:
        name = suf.rstrip("0123456789")
        if name not in SUFFIXES or name == "":
            return None
        out.append(("suffix", SUFFIXES.index(name), name))
        if len(suf) > len(name):
            out.append(("suffixno", int(suf[len(name):]), suf[len(name):]))
    if m.group(5):
        out.append(("hash", m.group(5)[1:], m.group(5)[1:]))
    if m.group(6):
        out.append(("rev", int(m.group(6)[2:]), m.group(6)[2:]))
    out.append(("end", 0, ""))
    return out


def valid(s):
    return tokens(s) is not None


def cmp_values(x, y):
    return (x > y) - (x < y)


def compare(a, b):
    ta, tb = tokens(a), tokens(b)
    for (ka, va, ra), (kb, vb, rb) in zip(ta, tb):
        if ka != kb:
            if ka == "suffix" and va < PRE:
                return -1
            if kb == "suffix" and vb < PRE:
                return 1
            return 1 if KINDS.index(ka) < KINDS.index(kb) else -1
        if ka == "end":
            return 0
        if ka == "number" and (ra[0] == "0" or rb[0] == "0"):
            c = cmp_values(ra, rb)
        else:
            c = cmp_values(va, vb)
        if c:
            return c
    return 0


if __name__ == "__main__":
    oracle_common.main(valid, compare)
