package match

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
)

// got is the part of a Finding the known-advisory table checks.
type got struct {
	Advisories []string
	Fixed      []string
}

func project(fs map[string]Finding) map[string]got {
	out := map[string]got{}
	for id, f := range fs {
		out[id] = got{f.Advisories, f.FixedVersions}
	}
	return out
}

func npm(name, version string) inventory.Package {
	return inventory.Package{Name: name, Version: version, Ecosystem: "npm", Type: "npm"}
}

func deb(eco, name, version, src, srcVersion string) inventory.Package {
	return inventory.Package{Name: name, Version: version, Ecosystem: eco, Type: "deb", SourceName: src, SourceVersion: srcVersion}
}

type knownCase struct {
	name string
	pkg  inventory.Package
	want map[string]got
}

// knownCases are specific packages with the findings they must get from
// the real advisories in testdata, with the right fixed versions, and
// fixed versions that must not be flagged. An empty want means no finding.
func knownCases() []knownCase {
	one := func(adv, fix string) got { return got{[]string{adv}, []string{fix}} }
	return []knownCase{
		{"lodash 4.17.15", npm("lodash", "4.17.15"), map[string]got{
			"CVE-2020-8203":  one("GHSA-p6mc-m468-83gw", "4.17.20"),
			"CVE-2021-23337": one("GHSA-35jh-r3h4-6jhm", "4.17.21"),
			"CVE-2020-28500": one("GHSA-29mw-wpgm-hmr9", "4.17.21"),
		}},
		{"lodash 4.17.20", npm("lodash", "4.17.20"), map[string]got{
			"CVE-2021-23337": one("GHSA-35jh-r3h4-6jhm", "4.17.21"),
			"CVE-2020-28500": one("GHSA-29mw-wpgm-hmr9", "4.17.21"),
		}},
		{"lodash 4.17.21 fixed", npm("lodash", "4.17.21"), map[string]got{}},
		// last_affected is inclusive and has no fix.
		{"lodash.trim 4.5.1 last_affected", npm("lodash.trim", "4.5.1"), map[string]got{
			"CVE-2020-28500": {Advisories: []string{"GHSA-29mw-wpgm-hmr9"}},
		}},
		{"lodash.trim 4.5.2 after last_affected", npm("lodash.trim", "4.5.2"), map[string]got{}},
		{"minimist 1.2.5", npm("minimist", "1.2.5"), map[string]got{"CVE-2021-44906": one("GHSA-xvch-5gv4-984h", "1.2.6")}},
		{"minimist 0.2.3 other branch", npm("minimist", "0.2.3"), map[string]got{"CVE-2021-44906": one("GHSA-xvch-5gv4-984h", "0.2.4")}},
		{"minimist 1.2.6 fixed", npm("minimist", "1.2.6"), map[string]got{}},
		{"minimist 0.2.4 fixed", npm("minimist", "0.2.4"), map[string]got{}},
		{"semver 7.5.1", npm("semver", "7.5.1"), map[string]got{"CVE-2022-25883": one("GHSA-c2qf-rxjj-qqgw", "7.5.2")}},
		{"semver 6.3.0", npm("semver", "6.3.0"), map[string]got{"CVE-2022-25883": one("GHSA-c2qf-rxjj-qqgw", "6.3.1")}},
		{"semver 5.7.1", npm("semver", "5.7.1"), map[string]got{"CVE-2022-25883": one("GHSA-c2qf-rxjj-qqgw", "5.7.2")}},
		{"semver 7.5.2 fixed", npm("semver", "7.5.2"), map[string]got{}},
		{"semver 6.3.1 fixed", npm("semver", "6.3.1"), map[string]got{}},
		{"qs 6.5.2", npm("qs", "6.5.2"), map[string]got{"CVE-2022-24999": one("GHSA-hrpp-h998-j3pp", "6.5.3")}},
		{"qs 6.10.2", npm("qs", "6.10.2"), map[string]got{"CVE-2022-24999": one("GHSA-hrpp-h998-j3pp", "6.10.3")}},
		{"qs 6.5.3 fixed", npm("qs", "6.5.3"), map[string]got{}},
		{"express 4.19.1", npm("express", "4.19.1"), map[string]got{
			"CVE-2024-29041": one("GHSA-rv95-896h-c2vc", "4.19.2"),
			"CVE-2024-43796": one("GHSA-qw6h-vgh9-j6wx", "4.20.0"),
		}},
		{"express 5.0.0-beta.1 prerelease", npm("express", "5.0.0-beta.1"), map[string]got{
			"CVE-2024-29041": one("GHSA-rv95-896h-c2vc", "5.0.0-beta.3"),
			"CVE-2024-43796": one("GHSA-qw6h-vgh9-j6wx", "5.0.0"),
		}},
		{"express 4.20.0 fixed", npm("express", "4.20.0"), map[string]got{}},
		{"express 5.0.0 fixed", npm("express", "5.0.0"), map[string]got{}},
		// GHSA-8hc4-vh64-cxmj names the package "Axios".
		{"axios 1.5.0", npm("axios", "1.5.0"), map[string]got{
			"CVE-2023-45857": one("GHSA-wf5p-g6vw-rhxx", "1.6.0"),
			"CVE-2024-39338": one("GHSA-8hc4-vh64-cxmj", "1.7.4"),
		}},
		{"axios 1.6.0", npm("axios", "1.6.0"), map[string]got{"CVE-2024-39338": one("GHSA-8hc4-vh64-cxmj", "1.7.4")}},
		{"axios 1.7.4 fixed", npm("axios", "1.7.4"), map[string]got{}},
		{"axios 0.8.0 before introduced", npm("axios", "0.8.0"), map[string]got{}},
		{"log4j-core 2.14.1", inventory.Package{Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Ecosystem: "Maven", Type: "java-archive"}, map[string]got{
			"CVE-2021-44228": one("GHSA-jfh8-c2jp-5v3q", "2.15.0"),
			"CVE-2021-45046": one("GHSA-7rjr-3q55-vv33", "2.16.0"),
		}},
		{"log4j-core 2.12.1", inventory.Package{Name: "org.apache.logging.log4j:log4j-core", Version: "2.12.1", Ecosystem: "Maven"}, map[string]got{
			"CVE-2021-44228": one("GHSA-jfh8-c2jp-5v3q", "2.12.2"),
			"CVE-2021-45046": one("GHSA-7rjr-3q55-vv33", "2.12.2"),
		}},
		{"log4j-core 2.17.1 fixed", inventory.Package{Name: "org.apache.logging.log4j:log4j-core", Version: "2.17.1", Ecosystem: "Maven"}, map[string]got{}},
		{"log4j-core 2.12.2 fixed", inventory.Package{Name: "org.apache.logging.log4j:log4j-core", Version: "2.12.2", Ecosystem: "Maven"}, map[string]got{}},
		{"commons-text 1.9", inventory.Package{Name: "org.apache.commons:commons-text", Version: "1.9", Ecosystem: "Maven"}, map[string]got{"CVE-2022-42889": one("GHSA-599f-7c49-w659", "1.10.0")}},
		{"commons-text 1.10.0 fixed", inventory.Package{Name: "org.apache.commons:commons-text", Version: "1.10.0", Ecosystem: "Maven"}, map[string]got{}},
		// PyPI names are PEP 503-normalised on both sides.
		{"PyYAML 5.3.1", inventory.Package{Name: "PyYAML", Version: "5.3.1", Ecosystem: "PyPI"}, map[string]got{"CVE-2020-14343": one("GHSA-8q59-q68h-6hv4", "5.4")}},
		{"pyyaml 5.4 fixed", inventory.Package{Name: "pyyaml", Version: "5.4", Ecosystem: "PyPI"}, map[string]got{}},
		{"Jinja2 3.1.2", inventory.Package{Name: "Jinja2", Version: "3.1.2", Ecosystem: "PyPI"}, map[string]got{"CVE-2024-22195": one("GHSA-h5c8-rqwp-cp95", "3.1.3")}},
		{"urllib3 1.26.16", inventory.Package{Name: "urllib3", Version: "1.26.16", Ecosystem: "PyPI"}, map[string]got{"CVE-2023-43804": one("GHSA-v845-jxx5-vc9f", "1.26.17")}},
		{"django 4.0.5", inventory.Package{Name: "Django", Version: "4.0.5", Ecosystem: "PyPI"}, map[string]got{"CVE-2022-34265": one("GHSA-p64x-8rxx-wf6q", "4.0.6")}},
		{"django 4.1 between ranges", inventory.Package{Name: "Django", Version: "4.1", Ecosystem: "PyPI"}, map[string]got{}},

		// Go modules (osv-scalibr strips the "v"; a "v" is accepted too).
		{"x/text 0.3.5", inventory.Package{Name: "golang.org/x/text", Version: "0.3.5", Ecosystem: "Go", Type: "go-module"}, map[string]got{
			"CVE-2021-38561": one("GO-2021-0113", "0.3.7"),
			"CVE-2022-32149": one("GO-2022-1059", "0.3.8"),
			"CVE-2026-56852": one("GO-2026-5970", "0.39.0"),
		}},
		{"x/text v0.3.8", inventory.Package{Name: "golang.org/x/text", Version: "v0.3.8", Ecosystem: "Go", Type: "go-module"}, map[string]got{
			"CVE-2026-56852": one("GO-2026-5970", "0.39.0"),
		}},
		{"x/text pseudo-version before 0.3.8", inventory.Package{Name: "golang.org/x/text", Version: "v0.3.8-0.20220722155223-a9b59b0215f8", Ecosystem: "Go"}, map[string]got{
			"CVE-2022-32149": one("GO-2022-1059", "0.3.8"),
			"CVE-2026-56852": one("GO-2026-5970", "0.39.0"),
		}},
		{"x/text 0.39.0 fixed", inventory.Package{Name: "golang.org/x/text", Version: "0.39.0", Ecosystem: "Go"}, map[string]got{}},
		{"stdlib go1.20.0", inventory.Package{Name: "stdlib", Version: "go1.20.0", Ecosystem: "Go", Type: "go-stdlib"}, map[string]got{
			"CVE-2023-24534": one("GO-2023-1704", "1.20.3"),
			"CVE-2023-24536": one("GO-2023-1705", "1.20.3"),
			"CVE-2023-24537": one("GO-2023-1702", "1.20.3"),
			"CVE-2023-24538": one("GO-2023-1703", "1.20.3"),
			"CVE-2023-24539": one("GO-2023-1751", "1.20.4"),
		}},
		{"stdlib go1.20 (no patch)", inventory.Package{Name: "stdlib", Version: "go1.20", Ecosystem: "Go", Type: "go-stdlib"}, map[string]got{
			"CVE-2023-24534": one("GO-2023-1704", "1.20.3"),
			"CVE-2023-24536": one("GO-2023-1705", "1.20.3"),
			"CVE-2023-24537": one("GO-2023-1702", "1.20.3"),
			"CVE-2023-24538": one("GO-2023-1703", "1.20.3"),
			"CVE-2023-24539": one("GO-2023-1751", "1.20.4"),
		}},
		{"stdlib go1.20.3 partly fixed", inventory.Package{Name: "stdlib", Version: "go1.20.3", Ecosystem: "Go", Type: "go-stdlib"}, map[string]got{
			"CVE-2023-24539": one("GO-2023-1751", "1.20.4"),
		}},
		{"stdlib go1.20.4 fixed", inventory.Package{Name: "stdlib", Version: "go1.20.4", Ecosystem: "Go", Type: "go-stdlib"}, map[string]got{}},
		{"scalibr's go 1.19.8", inventory.Package{Name: "go", Version: "1.19.8", Ecosystem: "Go"}, map[string]got{
			"CVE-2023-24539": one("GO-2023-1751", "1.19.9"),
		}},
		{"stdlib go1.21rc2 not in 1.20 ranges", inventory.Package{Name: "stdlib", Version: "go1.21rc2", Ecosystem: "Go", Type: "go-stdlib"}, map[string]got{}},
		// GO-2026-4923 is withdrawn: every bbolt version would match it.
		{"withdrawn bbolt", inventory.Package{Name: "go.etcd.io/bbolt", Version: "1.3.0", Ecosystem: "Go"}, map[string]got{}},

		// Debian 9: records keyed by source package; versions with ~ and +.
		{"Debian 9 libssl1.1 from openssl", deb("Debian:9", "libssl1.1", "1.1.0l-1~deb9u5", "openssl", "1.1.0l-1~deb9u5"), map[string]got{
			"CVE-2022-1292": one("DLA-3008-1", "1.1.0l-1~deb9u6"),
		}},
		{"Debian 9 openssl fixed", deb("Debian:9", "openssl", "1.1.0l-1~deb9u6", "", ""), map[string]got{}},
		{"Debian 9 libxml2 +dfsg", deb("Debian:9", "libxml2", "2.9.4+dfsg1-2.2+deb9u6", "", ""), map[string]got{
			"CVE-2022-29824": one("DLA-3012-1", "2.9.4+dfsg1-2.2+deb9u7"),
		}},
		{"Debian 9 dpkg", deb("Debian:9", "dpkg", "1.18.25", "", ""), map[string]got{"CVE-2022-1664": one("DLA-3022-1", "1.18.26")}},
		{"Debian 9 tzdata (no CVE)", deb("Debian:9", "tzdata", "2021a-0+deb9u3", "", ""), map[string]got{"DLA-3051-1": one("DLA-3051-1", "2021a-0+deb9u4")}},
		{"Debian 10 not in Debian 9 record", deb("Debian:10", "libssl1.1", "1.1.0l-1~deb9u5", "openssl", "1.1.0l-1~deb9u5"), map[string]got{}},
		// Debian 12: the record in testdata/written is hand-written (see README).
		{"Debian 12 libssl3 from openssl", deb("Debian:12", "libssl3", "3.0.11-1~deb12u1", "openssl", ""), map[string]got{
			"CVE-2023-5363": one("RUNLENS-TEST-DEB12-OPENSSL", "3.0.11-1~deb12u2"),
		}},
		{"Debian 12 binNMU binary, source version compared", deb("Debian:12.4", "libssl3", "3.0.11-1~deb12u1+b1", "openssl", "3.0.11-1~deb12u1"), map[string]got{
			"CVE-2023-5363": one("RUNLENS-TEST-DEB12-OPENSSL", "3.0.11-1~deb12u2"),
		}},
		{"Debian 12 fixed", deb("Debian:12", "libssl3", "3.0.11-1~deb12u2", "openssl", ""), map[string]got{}},
		{"Debian 12 binary name alone finds nothing", deb("Debian:12", "libssl3", "3.0.11-1~deb12u1", "", ""), map[string]got{}},

		// Ubuntu: binary -> source, USN and UBUNTU-CVE merged on the CVE.
		{"Ubuntu 20.04 liblog4j2-java", deb("Ubuntu:20.04:LTS", "liblog4j2-java", "2.11.2-1", "apache-log4j2", ""), map[string]got{
			"CVE-2021-44228": {[]string{"UBUNTU-CVE-2021-44228", "USN-5192-1"}, []string{"2.15.0-0.20.04.1"}},
		}},
		{"Ubuntu 20.04 liblog4j2-java fixed", deb("Ubuntu:20.04:LTS", "liblog4j2-java", "2.15.0-0.20.04.1", "apache-log4j2", ""), map[string]got{}},
		{"Ubuntu 22.04 python3-requests", deb("Ubuntu:22.04:LTS", "python3-requests", "2.25.1+dfsg-2", "requests", ""), map[string]got{
			"CVE-2023-32681": {[]string{"UBUNTU-CVE-2023-32681", "USN-6155-1"}, []string{"2.25.1+dfsg-2ubuntu0.1"}},
		}},
		// 16.04 fixes exist only under Ubuntu:Pro:16.04:LTS.
		{"Ubuntu 16.04 python3-requests via Pro", deb("Ubuntu:16.04:LTS", "python3-requests", "2.9.1-3", "requests", ""), map[string]got{
			"CVE-2023-32681": one("UBUNTU-CVE-2023-32681", "2.9.1-3ubuntu0.1+esm1"),
		}},
		{"Ubuntu 16.04 python3-requests Pro fix installed", deb("Ubuntu:16.04:LTS", "python3-requests", "2.9.1-3ubuntu0.1+esm1", "requests", ""), map[string]got{}},

		// Alpine: per-release ranges, apk versions with _git and -r.
		{"Alpine 3.20 musl", inventory.Package{Name: "musl", Version: "1.2.5-r0", Ecosystem: "Alpine:v3.20", Type: "apk", SourceName: "musl"}, map[string]got{
			"CVE-2025-26519": one("ALPINE-CVE-2025-26519", "1.2.5-r1"),
		}},
		{"Alpine 3.20 musl fixed", inventory.Package{Name: "musl", Version: "1.2.5-r1", Ecosystem: "Alpine:v3.20", Type: "apk"}, map[string]got{}},
		{"Alpine 3.19 musl _git", inventory.Package{Name: "musl-utils", Version: "1.2.4_git20230717-r4", Ecosystem: "Alpine:3.19.1", Type: "apk", SourceName: "musl"}, map[string]got{
			"CVE-2025-26519": one("ALPINE-CVE-2025-26519", "1.2.4_git20230717-r5"),
		}},
		{"Alpine musl before introduced", inventory.Package{Name: "musl", Version: "0.9.12-r0", Ecosystem: "Alpine:v3.20"}, map[string]got{}},
	}
}

// TestKnownAdvisories runs knownCases against the in-memory source.
func TestKnownAdvisories(t *testing.T) {
	runKnown(t, realSource(t))
}

func runKnown(t *testing.T, src Source) {
	for _, tt := range knownCases() {
		t.Run(tt.name, func(t *testing.T) {
			fs, res := matchOne(t, src, tt.pkg)
			if len(res.Errors) > 0 {
				t.Errorf("errors: %v", res.Errors)
			}
			if diff := cmp.Diff(tt.want, project(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}
