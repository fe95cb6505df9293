"""The protocol every oracle speaks, on stdin and stdout, one item a line.

  ORACLE sort   reads versions; prints "!<TAB>V" for each version the
                native tool rejects, then the others in the tool's order.
  ORACLE cmp    reads "A<TAB>B" pairs; prints "<", "=" or ">" for each.

Oracles written in Python call main() with a validity check and a
three-way comparison taken from the ecosystem's own implementation.
"""
import functools
import sys


def sign(n):
    return (n > 0) - (n < 0)


def main(valid, compare):
    mode = sys.argv[1]
    lines = sys.stdin.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    if mode == "sort":
        good = []
        for v in lines:
            if valid(v):
                good.append(v)
            else:
                out.append("!\t" + v)
        out.extend(sorted(good, key=functools.cmp_to_key(compare)))
    elif mode == "cmp":
        for line in lines:
            a, b = line.split("\t")
            out.append("<=>"[sign(compare(a, b)) + 1])
    else:
        sys.exit("unknown mode " + mode)
    sys.stdout.write("".join(s + "\n" for s in out))
