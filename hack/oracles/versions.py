"""Boundary-heavy version lists, one generator per version scheme.

Each generator crosses the parts where ecosystems disagree (epochs, tildes,
carets, pre/post/dev releases, qualifiers, leading zeros, local versions,
build metadata) and adds a few malformed strings. The cross products are
sampled down with a fixed seed, so the lists are the same on every run.
"""
import itertools
import random


def cross(*parts):
    return ["".join(p) for p in itertools.product(*parts)]


def sample(vs, n, seed):
    vs = list(dict.fromkeys(vs))
    if len(vs) <= n:
        return vs
    return random.Random(seed).sample(vs, n)


def debian():
    epochs = ["", "1:", "2:", "0:", "10:"]
    upstreams = [
        "1.0", "1.0~rc1", "1.0~rc2", "1.0~~", "1.0~", "1.0+dfsg", "1.0+dfsg1",
        "1.0+dfsg~1", "1.0.1", "1.00", "1.0a", "1.0.0", "1.10", "1.9", "10.0",
        "1.0+really0.9", "0.9~beta1", "1.0-rc1", "1:1.0", "2021a", "1.0.0~git20230101",
        "1.0++", "1.0.", "1.0a~", "01.0", "1.0~b", "1.0~a",
    ]
    revisions = [
        "", "-1", "-1~deb12u1", "-1+deb12u1", "-0ubuntu1", "-0ubuntu0.22.04.1",
        "-1build1", "-1+b1", "-10", "-2", "-1~bpo12+1", "-0", "-1.1", "-1ubuntu0.1~esm1",
    ]
    bad = ["abc", "1.0 beta", "1:", ":1.0", "x:1.0", "1.0-", "1.0-a_b", "1.0_1", "-1"]
    return sample(cross(epochs, upstreams, revisions), 420, 1) + bad


def rpm():
    epochs = ["", "0:", "1:", "2:", "10:"]
    versions = [
        "1.0", "1.0~rc1", "1.0~~", "1.0~", "1.0^", "1.0^git1", "1.0^git1~1",
        "1.0.0", "1.00", "1.01", "1.0a", "1.0b", "1.a", "1_0", "1..0", "001.0",
        "1.10", "1.9", "2", "3.0.7", "3.0.7a", "3.0.7.1", "1.0+x", "1.0.z",
    ]
    releases = [
        "", "-1", "-1.el9", "-1.el9_0", "-24.el9", "-27.el9", "-27.el9_3",
        "-1~beta", "-1.fc39", "-0.1.rc1", "-1.module_el9.4.0+123+abcdef12",
        "-150500.5.8.1", "-1^post", "-01", "-1.el8_10",
    ]
    return sample(cross(epochs, versions, releases), 420, 2)


def pypi():
    epochs = ["", "1!", "2!"]
    releases = ["0", "1", "1.0", "1.0.0", "1.0.1", "1.00", "01.0", "1.1", "1.10", "1.9", "2.0", "0.9", "1.0.0.0"]
    pres = ["", "a1", "a2", "b1", "rc1", "c1", "alpha1", "beta2", "pre1", "preview1", "a", "-rc.1", ".rc1", "_b1", "rc01", "RC1"]
    posts = ["", ".post1", "-1", "post2", ".post", "-post1", "_post1", ".rev1", ".r1", ".post0"]
    devs = ["", ".dev0", ".dev1", "dev", "-dev2", ".dev", ".DEV3"]
    locals_ = ["", "+local", "+ubuntu.1", "+1", "+abc.5", "+1.abc", "+ABC", "+abc-1", "+1.02"]
    pep440 = [
        "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456",
        "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1",
        "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456",
        "1.0.15", "1.1.dev1", "v1.0", "V1.0", " 1.0 ", "1.0.0-SNAPSHOT", "2013b", "1.0-beta-2",
        "1.0..0", "1.0+", "1.0+a..b", "1!", "abc",
    ]
    return sample(cross(epochs, releases, pres, posts, devs, locals_), 420, 3) + pep440


def maven():
    bases = ["1", "1.0", "1.0.0", "1.0.0.0", "1.1", "1.10", "1.9", "2", "01", "1.0.01", "2.0"]
    quals = [
        "", "-SNAPSHOT", ".RELEASE", ".Final", "-Final", "-rc1", "-RC1", "-rc-1", "-cr1",
        "-alpha", "-alpha1", "-alpha-1", "-a1", "-beta", "-b1", "-beta-2", "-m1",
        "-milestone1", "-M2", "-ga", "-GA", "-sp", "-sp1", "-SP1", "-1", ".1", "-foo",
        "-xyz", "-jre", "-android", "a1", "b2", "rc1", "-20210101.123456-1",
        "-1-SNAPSHOT", ".GA", "-final", "-release", "-pre", "-dev", "-0", ".0", "-a",
        "-rc.1", "_1", "-RC-SNAPSHOT", ".x", "-jre17",
    ]
    extra = ["1-1", "1.0-1", "1.ga", "1-ga-1", "1-0.1", "1.0.0-alpha.beta", "1.0-alpha.1", "1..0", "1.0.",
             "1-a-1", "1-1.a", "2.12.6.1", "1.2.2.1-jre17", "5.2.20.RELEASE", "1.0.0.RC1", "1.0.0.M1",
             "5.0.0.RC1", "5.0.0.RELEASE", "1.0.0.0-M2", "1-0.1", "1-0-1", "1.0-0.1", "1.0.0-0", "1.sp",
             "1.0.sp1", "1-SNAPSHOT.1", "1.0a.1", "1.0-a.1.b", "1.x.2", "1.2.x", "1.0.x.0", "a.b", "1.a.b",
             "x", "1-x.y", "1.a1", "1.0-1.0.x", ".1", "-1", "1.-1", "1.0.0-0.1", "31.1-jre", "31.1-android",
             "2.0.0-M1", "3.0.0-RC1", "1.0-alpha-1-SNAPSHOT", "1.0.RC1", "1.0.CR1", "1.0.Beta1", "1.0.Alpha1",
             "1.0.SP1", "5.4.1.Final", "1.0.1.RELEASE", "1.0.20211220", "1.0.12345678901234567890",
             "1.0.12345678901234567891", "1.0.0099", "1.0-b", "1.0-m", "1.0.a", "1.0.m1", "1.0-ga.1",
             "1.0-final-1", "1.0--1", "1.0..1", "1.0-.1", "1..", "1-", "1.0-0-0", "1.0.0-sp.1", "1.0.0-foo.1",
             "1.0.0-foo-bar1baz-.1", "1-1.foo-bar1baz-.1", "1-1-foo-bar-1-baz-0.1", "1.0-SNAPSHOT-1"]
    return sample(cross(bases, quals), 520, 4) + extra


def rubygems():
    bases = ["0", "1", "1.0", "1.0.0", "1.0.0.0", "1.1", "1.10", "1.9", "01", "1.01", "2", "0.9"]
    suffixes = [
        "", ".a", ".alpha", ".alpha1", ".b", ".beta", ".beta.2", ".rc1", ".rc.1", ".pre",
        "-1", "-rc1", "a", "rc1", ".pre.1", ".1a", ".0", ".0.0", "-beta", ".z", ".A", ".RC1",
        "-beta.1", ".a.1", ".1.a", "-0", ".a0",
    ]
    extra = ["1.0.0.pre.1", "1.0.0-pre-1", "1.0.a10", "1.0.a9", "1.0.a.10", "1.0.A", " 1.0", "1.0 ",
             "1.0.0-rc.2", "1.0.0.rc.2", "1.0.0.rc2", "1.0.0-RC2", "1.0.0.b", "1.0.0-x-y", "3.2.22.5"]
    bad = ["1..0", "1.0.", "a1", "1.0 beta", "-1", "1.0+x", "1.0_1", "1.0-", "1.0-.a"]
    return sample(cross(bases, suffixes), 360, 5) + extra + bad


def semver():
    cores = ["0.0.0", "0.0.1", "0.1.0", "1.0.0", "1.0.1", "1.1.0", "1.2.3", "1.10.0", "1.9.0",
             "2.0.0", "10.0.0", "01.0.0", "1.0", "1", "1.0.0.0", "v1.0.0", "1.02.0"]
    pres = ["", "-0", "-1", "-01", "-alpha", "-alpha.1", "-alpha.beta", "-alpha.10", "-alpha.2",
            "-beta", "-beta.2", "-beta.11", "-rc.1", "-rc1", "-RC.1", "-x-y", "-0a", "-a.0",
            "-alpha-1", "-1.2.3", "--", "-alpha.01", "-"]
    builds = ["", "+build", "+build.1", "+001", "+exp.sha.5114f85", "+a-b", "+"]
    spec = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
            "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.0-alpha+001", "1.0.0+20130313144700",
            "1.0.0-beta+exp.sha.5114f85", "1.0.0+21AF26D3----117B344092BD"]
    return sample(cross(cores, pres, builds), 380, 6) + spec


def packagist():
    bases = ["1", "1.0", "1.0.0", "1.0.0.0", "v1.0.0", "V1.0", "1.10", "1.9", "01.0", "2.0", "v2", "1.0.0.1"]
    suffixes = [
        "", "-dev", "-alpha", "-alpha1", "-alpha.1", "-a1", "-beta", "-beta2", "-b2", "-RC",
        "-RC1", "-rc1", "-rc.1", "-patch1", "-p1", "-pl1", "-stable", "alpha1", "beta", "RC2",
        "-beta.2", "-1", "+build", "-beta-2", "-alpha2-dev", ".RC1", "-BETA1", "pl2", "-p",
    ]
    extra = ["1.x-dev", "2.0.x-dev", "dev-master", "1.0.0-foo", "abc", "1.0.0.0.0", "20240101", "2024.01.01",
             "1.0.0-beta.2.3", "1.0.0-RC.1", "1.0.0-patch.2", "1.0.0-pl", "1.0.0.0-dev", "1.0.0alpha",
             "1.0.x-dev", "1.*-dev", "v1.x-dev", "1.0.0+build.5", "1.0-stable", "1.0.0-STABLE", "12345.1",
             "123456.1", "2024-01-01", "20240101120000", "2024.01.01-beta1", "master", "dev-main",
             " 1.0.0 ", "1.0.0-beta-dev", "1.0.0-rc1.dev", "1.0.0.RC1-dev", "6.4.10-p1", "4.4.x-dev"]
    return sample(cross(bases, suffixes), 420, 7) + extra


def nuget():
    cores = ["1.0", "1.0.0", "1.0.0.0", "1.0.0.1", "1.0.1", "1.01", "1.1", "1.10.0", "1.9.0", "2.0.0", "0.0.0", "1.2.3.4"]
    pres = ["", "-alpha", "-Alpha", "-ALPHA", "-alpha.1", "-alpha.10", "-alpha.2", "-alpha2", "-alpha10",
            "-beta", "-rc", "-rc.1", "-RC.1", "-rc.10", "-zzz", "-open", "-aaa", "-1", "-x-y",
            "-alpha.beta", "-01"]
    builds = ["", "+git.abc", "+1", "+META"]
    bad = ["1", "1.0.0.0.0", "a.b", "1.0-", "1.0+", "1.0.0-alpha..1", "v1.0.0"]
    return sample(cross(cores, pres, builds), 360, 8) + bad


def alpine():
    bases = ["1", "1.0", "1.0.0", "1.2", "1.2.3", "1.10", "1.9", "2.0", "0.9.13", "1.2.4", "1.2.5", "20240226"]
    letters = ["", "a", "b", "z"]
    suffixes = ["", "_alpha", "_alpha1", "_beta2", "_pre1", "_rc", "_rc1", "_rc2", "_cvs", "_svn1",
                "_git20230717", "_hg", "_p", "_p1", "_p2", "_rc1_p1", "_git1_p2", "_p1_rc1"]
    hashes = ["", "~abc123", "~0f"]
    revs = ["", "-r0", "-r1", "-r2", "-r10", "-r9"]
    extra = ["1.0_alpha_beta", "1.0_pre_rc", "1.0_rc1_p", "1.2.3456789012345678901", "1.2.3456789012345678902",
             "1.0~1-r1", "1.0~10", "1.0~a", "1.0~9", "1.0a_p1~abc-r3", "99999999999999999999.1",
             "1.2.3_git20230717_p1-r0", "1.0_p1_p2", "1.0_p2_p1", "1_rc"]
    bad = ["garbage!!", "1.2.3-rX!", "v1.2", "1.2-r", "1.0_foo", "1.0A", "1.0-1", "1.0~", "1.0_p1a",
           "1.0ab", "1.0_", "1.0-r1-r2", "1.0~abc~def", "1.0-r1_p1", ".1", "1..2"]
    return sample(cross(bases, letters, suffixes, hashes, revs), 560, 9) + extra + bad
