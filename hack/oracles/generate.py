#!/usr/bin/python3
"""Writes internal/match/testdata/oracle/<scheme>.txt: pairs of versions
with the order the ecosystem's own implementation gives them.

Run through generate.sh, which installs the tools. For each scheme:
  1. the version list comes from versions.py, plus every version the real
     advisories in internal/match/testdata/osv name for that ecosystem;
  2. the oracle sorts the list (and names the versions it rejects);
  3. the pairs are every adjacent pair of that order (so agreement on
     them proves the whole order, by transitivity), each version with its
     next two neighbours in plain string order (near-identical strings:
     the boundaries), and random pairs, at least MIN_PAIRS in all;
  4. the oracle compares every pair, and the file is written.

  generate.py [SCHEME...]    all schemes when none is named
"""
import glob
import json
import os
import random
import subprocess
import sys

import versions

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "internal", "match", "testdata", "oracle")
OSV = os.path.join(ROOT, "internal", "match", "testdata", "osv")
MIN_PAIRS = 1500
PY = ["/usr/bin/python3"]


def deb_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True, text=True)
    return r.stdout.strip() or "not installed"


def tool_version(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    return r.stdout.strip() or "unknown version"


# scheme -> (oracle command, description, version generator, OSV ecosystems
# whose advisory versions join the list)
SCHEMES = {
    "debian": (PY + ["oracle_dpkg.py"], lambda: "dpkg --compare-versions (dpkg %s)" % deb_version("dpkg"),
               versions.debian, ["Debian", "Ubuntu"]),
    "rpm": (PY + ["oracle_rpm.py"], lambda: "rpm.labelCompare over rpm.ver's EVR split (python3-rpm %s)" % deb_version("python3-rpm"),
            versions.rpm, ["Red Hat", "Rocky Linux", "AlmaLinux", "openSUSE", "SUSE"]),
    "alpine": (PY + ["oracle_alpine.py"], lambda: "apk's documented rules, reimplemented in hack/oracles/oracle_alpine.py (apk-tools is not packaged for Debian)",
               versions.alpine, ["Alpine"]),
    "pypi": (PY + ["oracle_pypi.py"], lambda: "packaging.version.Version, PEP 440 (python3-packaging %s)" % deb_version("python3-packaging"),
             versions.pypi, ["PyPI"]),
    "maven": (["java", "-cp", "/usr/share/maven/lib/maven-artifact-3.x.jar", "OracleMaven.java"],
              lambda: "org.apache.maven.artifact.versioning.ComparableVersion (libmaven3-core-java %s)" % deb_version("libmaven3-core-java"),
              versions.maven, ["Maven"]),
    "rubygems": (["ruby", "oracle_rubygems.rb"], lambda: "Gem::Version (%s)" % tool_version(["ruby", "-e", "print \"ruby #{RUBY_VERSION}, RubyGems #{Gem::VERSION}\""]),
                 versions.rubygems, ["RubyGems"]),
    "npm": (["node", "oracle_npm.js"], lambda: "semver.compare, strict (node-semver %s)" % deb_version("node-semver"),
            versions.semver, ["npm"]),
    "crates.io": ([os.environ.get("ORACLE_CARGO_SEMVER", "oracle-cargo-semver")],
                  lambda: "the semver crate's precedence (librust-semver-dev %s)" % deb_version("librust-semver-dev"),
                  versions.semver, ["crates.io"]),
    "go": (["go", "-C", "gosemver", "run", "."],
           lambda: "golang.org/x/mod/semver.Compare (%s)" % tool_version(["go", "-C", "gosemver", "list", "-m", "-f", "{{.Path}} {{.Version}}", "golang.org/x/mod"]),
           versions.semver, ["Go"]),
    "packagist": (["php", "oracle_packagist.php"],
                  lambda: "Composer VersionParser::normalize then Comparator (php-composer-semver %s)" % deb_version("php-composer-semver"),
                  versions.packagist, ["Packagist"]),
    "nuget": (PY + ["oracle_nuget.py"], lambda: "NuGet's published version rules, reimplemented in hack/oracles/oracle_nuget.py (no NuGet.Versioning is packaged for Debian)",
              versions.nuget, ["NuGet"]),
}


def advisory_versions(ecosystems):
    out = []
    for path in sorted(glob.glob(os.path.join(OSV, "**", "*.json"), recursive=True)):
        with open(path) as f:
            rec = json.load(f)
        for a in rec.get("affected", []):
            if a["package"]["ecosystem"].split(":")[0] not in ecosystems:
                continue
            out.extend(a.get("versions", []))
            for r in a.get("ranges", []):
                if r["type"] == "GIT":
                    continue
                for ev in r["events"]:
                    out.extend(v for v in ev.values() if v not in ("0", "*"))
    return out


def run(cmd, mode, lines):
    env = dict(os.environ, NODE_PATH="/usr/share/nodejs")
    r = subprocess.run(cmd + [mode], input="".join(s + "\n" for s in lines), capture_output=True,
                       text=True, cwd=HERE, env=env)
    if r.returncode != 0:
        sys.exit("%s %s: %s" % (" ".join(cmd), mode, r.stderr))
    return r.stdout.split("\n")[:-1]


def pairs_for(sorted_valid, seed):
    rnd = random.Random(seed)
    pairs, seen = [], set()

    def add(a, b):
        if (a, b) in seen or (b, a) in seen:
            return
        seen.add((a, b))
        pairs.append((a, b) if rnd.random() < 0.5 else (b, a))

    for a, b in zip(sorted_valid, sorted_valid[1:]):
        add(a, b)
    lexical = sorted(sorted_valid)
    for i, a in enumerate(lexical):
        for b in lexical[i + 1:i + 3]:
            add(a, b)
    for a in sorted_valid:
        add(a, a)
    target = max(MIN_PAIRS, len(pairs) + len(sorted_valid))
    while len(pairs) < target:
        add(rnd.choice(sorted_valid), rnd.choice(sorted_valid))
    return pairs


def generate(scheme):
    cmd, describe, gen, ecosystems = SCHEMES[scheme]
    vs = list(dict.fromkeys(v for v in gen() + advisory_versions(ecosystems) if "\t" not in v and "\n" not in v))
    out = run(cmd, "sort", vs)
    invalid = [line[2:] for line in out if line.startswith("!\t")]
    valid = [line for line in out if not line.startswith("!\t")]
    if sorted(invalid + valid) != sorted(vs):
        sys.exit("%s: the oracle's sort lost or added versions" % scheme)
    pairs = pairs_for(valid, scheme)
    ops = run(cmd, "cmp", ["%s\t%s" % p for p in pairs])
    if len(ops) != len(pairs):
        sys.exit("%s: %d answers for %d pairs" % (scheme, len(ops), len(pairs)))
    path = os.path.join(OUT, scheme + ".txt")
    with open(path, "w") as f:
        f.write("# Version order of the %s scheme as its own implementation gives it.\n" % scheme)
        f.write("# oracle: %s\n" % describe())
        f.write("# generated by hack/oracles/generate.sh; do not edit by hand.\n")
        f.write("# %d versions (%d rejected by the oracle), %d pairs.\n" % (len(vs), len(invalid), len(pairs)))
        f.write("# Lines: A<TAB>OP<TAB>B with OP one of < = >, or !<TAB>V for a version the oracle rejects.\n")
        for v in invalid:
            f.write("!\t%s\n" % v)
        for (a, b), op in zip(pairs, ops):
            f.write("%s\t%s\t%s\n" % (a, op, b))
    print("%-10s %4d versions, %4d rejected, %5d pairs -> %s" % (scheme, len(vs), len(invalid), len(pairs), os.path.relpath(path, ROOT)))


def main():
    os.makedirs(OUT, exist_ok=True)
    for scheme in sys.argv[1:] or list(SCHEMES):
        if scheme not in SCHEMES:
            sys.exit("unknown scheme %s; known: %s" % (scheme, " ".join(SCHEMES)))
        generate(scheme)


if __name__ == "__main__":
    main()
