package match

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
)

func pkgOf(eco, name, version string) inventory.Package {
	return inventory.Package{Name: name, Version: version, Ecosystem: eco}
}

func rpmPkg(eco, name, version, src, srcVersion string) inventory.Package {
	return inventory.Package{Name: name, Version: version, Ecosystem: eco, Type: "rpm", SourceName: src, SourceVersion: srcVersion}
}

// ecosystemCases put each ecosystem's version rules through range matching
// at the boundaries the oracles (testdata/oracle) probe: epochs, pre,
// post, dev and local releases, qualifiers, "v" prefixes, build metadata.
// The PyPI, Maven, npm, Ubuntu and Alpine records are real
// (testdata/osv); the RPM, RubyGems, crates.io, NuGet and Packagist ones
// are written by hand (testdata/written/RUNLENS-TEST-*, see the README
// there).
func ecosystemCases() []knownCase {
	one := func(adv, fix string) got { return got{[]string{adv}, []string{fix}} }
	none := map[string]got{}
	return []knownCase{
		// RPM: the epoch decides. An inventory made before source versions
		// kept the epoch has "3.0.7-27.el9" as the source version of
		// "1:3.0.7-27.el9"; compared as epoch 0 it fell below the fix
		// "1:3.0.7-25.el9" and was reported affected.
		{"Rocky 9 openssl-libs, source version without the binary's epoch", rpmPkg("Rocky Linux:9", "openssl-libs", "1:3.0.7-27.el9", "openssl", "3.0.7-27.el9"), none},
		{"Rocky 9 openssl-libs, source version with epoch", rpmPkg("Rocky Linux:9", "openssl-libs", "1:3.0.7-27.el9", "openssl", "1:3.0.7-27.el9"), none},
		{"Rocky 9 openssl-libs at the fix", rpmPkg("Rocky Linux:9", "openssl-libs", "1:3.0.7-25.el9", "openssl", "3.0.7-25.el9"), none},
		{"Rocky 9 openssl-libs before the fix", rpmPkg("Rocky Linux:9", "openssl-libs", "1:3.0.7-24.el9", "openssl", "3.0.7-24.el9"), map[string]got{
			"CVE-2023-5678": one("RUNLENS-TEST-ROCKY9-OPENSSL", "1:3.0.7-25.el9"),
		}},
		{"Rocky 9 openssl-libs by binary name", rpmPkg("Rocky Linux:9", "openssl-libs", "1:3.0.7-24.el9", "", ""), map[string]got{
			"CVE-2023-5678": one("RUNLENS-TEST-ROCKY9-OPENSSL", "1:3.0.7-25.el9"),
		}},
		// A fix written without an epoch has epoch 0, as rpm reads it.
		{"Alma 9 libxml2 epoch 1 against an epoch-less fix", rpmPkg("AlmaLinux:9", "libxml2", "1:2.9.13-5.el9", "libxml2", "2.9.13-5.el9"), none},
		{"Alma 9 libxml2 without epoch", rpmPkg("AlmaLinux:9", "libxml2", "2.9.13-5.el9", "libxml2", "2.9.13-5.el9"), map[string]got{
			"CVE-2024-25062": one("RUNLENS-TEST-ALMA9-NOEPOCH", "2.9.13-6.el9_4"),
		}},
		{"Alma 9 libxml2 explicit epoch 0", rpmPkg("AlmaLinux:9", "libxml2", "0:2.9.13-5.el9", "libxml2", "0:2.9.13-5.el9"), map[string]got{
			"CVE-2024-25062": one("RUNLENS-TEST-ALMA9-NOEPOCH", "2.9.13-6.el9_4"),
		}},
		{"openSUSE curl release before the fix", rpmPkg("openSUSE:Leap 15.5", "curl", "8.0.1-150400.5.40.1", "curl", "8.0.1-150400.5.40.1"), map[string]got{
			"CVE-2024-2398": one("RUNLENS-TEST-OPENSUSE-CURL", "8.0.1-150400.5.41.1"),
		}},
		{"openSUSE curl fixed", rpmPkg("openSUSE:Leap 15.5", "curl", "8.0.1-150400.5.41.1", "curl", "8.0.1-150400.5.41.1"), none},

		// PyPI (PEP 440), real GitHub advisories.
		{"jinja2 3.1.3rc1 pre-release of the fix", pkgOf("PyPI", "Jinja2", "3.1.3rc1"), map[string]got{"CVE-2024-22195": one("GHSA-h5c8-rqwp-cp95", "3.1.3")}},
		{"jinja2 3.1.3.dev0", pkgOf("PyPI", "jinja2", "3.1.3.dev0"), map[string]got{"CVE-2024-22195": one("GHSA-h5c8-rqwp-cp95", "3.1.3")}},
		{"jinja2 3.1.2.post1", pkgOf("PyPI", "jinja2", "3.1.2.post1"), map[string]got{"CVE-2024-22195": one("GHSA-h5c8-rqwp-cp95", "3.1.3")}},
		{"jinja2 3.1.3+local.1 fixed", pkgOf("PyPI", "jinja2", "3.1.3+local.1"), none},
		{"jinja2 3.1.3-1 is a post-release", pkgOf("PyPI", "jinja2", "3.1.3-1"), none},
		{"jinja2 epoch 1!0.1", pkgOf("PyPI", "jinja2", "1!0.1"), none},
		{"django 4.0.6rc1", pkgOf("PyPI", "Django", "4.0.6rc1"), map[string]got{"CVE-2022-34265": one("GHSA-p64x-8rxx-wf6q", "4.0.6")}},
		{"django 4.0rc1 before introduced 4.0", pkgOf("PyPI", "Django", "4.0rc1"), none},
		{"django 4.0.0 equals introduced 4.0", pkgOf("PyPI", "Django", "4.0.0"), map[string]got{"CVE-2022-34265": one("GHSA-p64x-8rxx-wf6q", "4.0.6")}},
		{"cryptography 42.0.0.dev1", pkgOf("PyPI", "cryptography", "42.0.0.dev1"), map[string]got{"CVE-2023-50782": one("GHSA-3ww4-gg4f-jr7f", "42.0.0")}},

		// Maven (ComparableVersion), real GitHub advisories.
		{"spring-beans 5.2.19.RELEASE", pkgOf("Maven", "org.springframework:spring-beans", "5.2.19.RELEASE"), map[string]got{"CVE-2022-22965": one("GHSA-36p3-wjmg-h94x", "5.2.20.RELEASE")}},
		{"spring-beans 5.2.20 equals 5.2.20.RELEASE", pkgOf("Maven", "org.springframework:spring-beans", "5.2.20"), none},
		{"spring-beans 5.3.18.RELEASE equals 5.3.18", pkgOf("Maven", "org.springframework:spring-beans", "5.3.18.RELEASE"), none},
		{"spring-beans 5.0.0.RC1", pkgOf("Maven", "org.springframework:spring-beans", "5.0.0.RC1"), map[string]got{"CVE-2022-22965": one("GHSA-36p3-wjmg-h94x", "5.2.20.RELEASE")}},
		{"spring-beans 5.3.18.M1 milestone before 5.3.18", pkgOf("Maven", "org.springframework:spring-beans", "5.3.18.M1"), map[string]got{"CVE-2022-22965": one("GHSA-36p3-wjmg-h94x", "5.3.18")}},
		{"jackson-databind 2.13.2", pkgOf("Maven", "com.fasterxml.jackson.core:jackson-databind", "2.13.2"), map[string]got{"CVE-2020-36518": one("GHSA-57j2-w4cx-62h2", "2.13.2.1")}},
		{"jackson-databind 2.13.2.1 fixed", pkgOf("Maven", "com.fasterxml.jackson.core:jackson-databind", "2.13.2.1"), none},
		{"snakeyaml 2.0-SNAPSHOT", pkgOf("Maven", "org.yaml:snakeyaml", "2.0-SNAPSHOT"), map[string]got{"CVE-2022-1471": one("GHSA-mjmj-j48q-9wg2", "2.0")}},
		{"snakeyaml 2.0.0 equals 2.0", pkgOf("Maven", "org.yaml:snakeyaml", "2.0.0"), none},
		{"log4j-core 2.15.0-rc1", pkgOf("Maven", "org.apache.logging.log4j:log4j-core", "2.15.0-rc1"), map[string]got{
			"CVE-2021-44228": one("GHSA-jfh8-c2jp-5v3q", "2.15.0"),
			"CVE-2021-45046": one("GHSA-7rjr-3q55-vv33", "2.16.0"),
		}},
		{"log4j-core 2.4-beta1 before introduced 2.4", pkgOf("Maven", "org.apache.logging.log4j:log4j-core", "2.4-beta1"), map[string]got{
			"CVE-2021-45046": one("GHSA-7rjr-3q55-vv33", "2.12.2"),
		}},

		// npm (SemVer), real GitHub advisories.
		{"semver 7.5.2-rc.1 pre-release of the fix", npm("semver", "7.5.2-rc.1"), map[string]got{"CVE-2022-25883": one("GHSA-c2qf-rxjj-qqgw", "7.5.2")}},
		{"semver 7.5.2+build.1 fixed", npm("semver", "7.5.2+build.1"), none},

		// Ubuntu and Alpine, real records.
		{"Ubuntu 22.04 python3-requests ~ before the fix", deb("Ubuntu:22.04:LTS", "python3-requests", "2.25.1+dfsg-2ubuntu0.1~esm1", "requests", ""), map[string]got{
			"CVE-2023-32681": {[]string{"UBUNTU-CVE-2023-32681", "USN-6155-1"}, []string{"2.25.1+dfsg-2ubuntu0.1"}},
		}},
		{"Alpine 3.20 musl without revision", inventory.Package{Name: "musl", Version: "1.2.5", Ecosystem: "Alpine:v3.20", Type: "apk"}, map[string]got{
			"CVE-2025-26519": one("ALPINE-CVE-2025-26519", "1.2.5-r1"),
		}},
		{"Alpine 3.20 musl _rc before the fix", inventory.Package{Name: "musl", Version: "1.2.5_rc1-r9", Ecosystem: "Alpine:v3.20", Type: "apk"}, map[string]got{
			"CVE-2025-26519": one("ALPINE-CVE-2025-26519", "1.2.5-r1"),
		}},
		{"Alpine 3.20 musl _git after the release", inventory.Package{Name: "musl", Version: "1.2.5_git20240101-r0", Ecosystem: "Alpine:v3.20", Type: "apk"}, none},

		// RubyGems (Gem::Version): "-" starts a pre-release, "7.1.0-beta"
		// is "7.1.0.pre.beta", after "7.1.0.beta1".
		{"activesupport 7.0.8", pkgOf("RubyGems", "activesupport", "7.0.8"), map[string]got{"RUNLENS-TEST-RUBYGEMS-ACTIVESUPPORT": one("RUNLENS-TEST-RUBYGEMS-ACTIVESUPPORT", "7.0.8.1")}},
		{"activesupport 7.0.8.1 fixed", pkgOf("RubyGems", "activesupport", "7.0.8.1"), none},
		{"activesupport 7.1.0.rc2", pkgOf("RubyGems", "activesupport", "7.1.0.rc2"), map[string]got{"RUNLENS-TEST-RUBYGEMS-ACTIVESUPPORT": one("RUNLENS-TEST-RUBYGEMS-ACTIVESUPPORT", "7.1.3.1")}},
		{"activesupport 7.1.0-beta is 7.1.0.pre.beta", pkgOf("RubyGems", "activesupport", "7.1.0-beta"), map[string]got{"RUNLENS-TEST-RUBYGEMS-ACTIVESUPPORT": one("RUNLENS-TEST-RUBYGEMS-ACTIVESUPPORT", "7.1.3.1")}},
		{"activesupport 7.1.0.alpha before introduced", pkgOf("RubyGems", "activesupport", "7.1.0.alpha"), none},

		// crates.io (SemVer ranges).
		{"tokio 1.20.3", pkgOf("crates.io", "tokio", "1.20.3"), map[string]got{"RUNLENS-TEST-CRATES-TOKIO": one("RUNLENS-TEST-CRATES-TOKIO", "1.20.4")}},
		{"tokio 1.18.5+build.1 fixed, build ignored", pkgOf("crates.io", "tokio", "1.18.5+build.1"), none},
		{"tokio 1.19.0-alpha.1 before introduced", pkgOf("crates.io", "tokio", "1.19.0-alpha.1"), none},
		{"tokio 0.1.13 before introduced", pkgOf("crates.io", "tokio", "0.1.13"), none},

		// NuGet: four-part versions, case-insensitive labels.
		{"Newtonsoft.Json 12.0.3", pkgOf("NuGet", "Newtonsoft.Json", "12.0.3"), map[string]got{"RUNLENS-TEST-NUGET-NEWTONSOFT": one("RUNLENS-TEST-NUGET-NEWTONSOFT", "13.0.1")}},
		{"Newtonsoft.Json 13.0.1-beta1", pkgOf("NuGet", "Newtonsoft.Json", "13.0.1-beta1"), map[string]got{"RUNLENS-TEST-NUGET-NEWTONSOFT": one("RUNLENS-TEST-NUGET-NEWTONSOFT", "13.0.1")}},
		{"Newtonsoft.Json 13.0.1.0 equals 13.0.1", pkgOf("NuGet", "Newtonsoft.Json", "13.0.1.0"), none},

		// Packagist: Composer normalises before it compares, so "7.0" is
		// 7.0.0.0, inside "introduced 7.0.0".
		{"guzzle 7.0 normalised", pkgOf("Packagist", "guzzlehttp/guzzle", "7.0"), map[string]got{"RUNLENS-TEST-PACKAGIST-GUZZLE": one("RUNLENS-TEST-PACKAGIST-GUZZLE", "7.4.5")}},
		{"guzzle v7.4.4", pkgOf("Packagist", "guzzlehttp/guzzle", "v7.4.4"), map[string]got{"RUNLENS-TEST-PACKAGIST-GUZZLE": one("RUNLENS-TEST-PACKAGIST-GUZZLE", "7.4.5")}},
		{"guzzle 7.4.5-RC1", pkgOf("Packagist", "guzzlehttp/guzzle", "7.4.5-RC1"), map[string]got{"RUNLENS-TEST-PACKAGIST-GUZZLE": one("RUNLENS-TEST-PACKAGIST-GUZZLE", "7.4.5")}},
		{"guzzle v7.4.5 fixed", pkgOf("Packagist", "guzzlehttp/guzzle", "v7.4.5"), none},
		{"guzzle 7.0.0-beta2 before introduced", pkgOf("Packagist", "guzzlehttp/guzzle", "7.0.0-beta2"), none},
		{"guzzle 6.5.8.0 fixed", pkgOf("Packagist", "guzzlehttp/guzzle", "6.5.8.0"), none},
	}
}

// TestEcosystemBoundaries runs ecosystemCases against the in-memory source
// and against the real store.
func TestEcosystemBoundaries(t *testing.T) {
	t.Run("map", func(t *testing.T) { runCases(t, realSource(t), ecosystemCases()) })
	t.Run("vulndb", func(t *testing.T) { runCases(t, openVulnDB(t), ecosystemCases()) })
}

func runCases(t *testing.T, src Source, cases []knownCase) {
	for _, tt := range cases {
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

// TestNativeToolRejects: a version the ecosystem's own tool rejects is a
// match error naming the advisory, never compared or silently clean.
func TestNativeToolRejects(t *testing.T) {
	src := realSource(t)
	for _, p := range []inventory.Package{
		pkgOf("Packagist", "guzzlehttp/guzzle", "dev-master"),
		pkgOf("PyPI", "jinja2", "3.1.2-SNAPSHOT"),
		pkgOf("RubyGems", "activesupport", "7.0..8"),
	} {
		fs, res := matchOne(t, src, p)
		if len(fs) != 0 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "installed version") {
			t.Errorf("%s %s: findings %v errors %q, want one installed-version error", p.Name, p.Version, fs, res.Errors)
		}
	}
}
