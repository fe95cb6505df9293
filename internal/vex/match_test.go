package vex

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
)

// Digests of the images the documents in testdata speak of.
const (
	nginxDigest = "sha256:ee8033170a45643b1f4bc0f33ff4564b0922e6618fd0e93c0e15f64f9917e44c"
	appDigest   = "sha256:4df223f193b6c59d081749d3b8fad3c6da985285e4064c61c4d4d8ccf8968485"
	webDigest   = "sha256:fee5fdf8a889e1091ab474902df0b0d2e5b911bd29b9a4ea8e5b162aa297632a"
	shopDigest  = "sha256:f211d9c9e2083e10e2f567dad255114615ece2ddcb4e30d28e75b6ec823ea8f9"
	otherDigest = "sha256:d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa"
)

const shopRepo = "registry.shop.example/shop/web"

// want is what a lookup should return; an empty status means no match.
type want struct {
	status, justification, format, product, file string
	at                                           string // RFC 3339
	impact, action                               string // substrings
}

func TestLookupThirdPartyDocuments(t *testing.T) {
	set, err := Load(context.Background(), []string{"testdata"})
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Statements(); got != 12 {
		t.Errorf("Statements() = %d, want 12", got)
	}
	nginxPURL := "pkg:oci/nginx@sha256%3Aee8033170a45643b1f4bc0f33ff4564b0922e6618fd0e93c0e15f64f9917e44c?repository_url=index.docker.io/library/nginx&tag=1.25"
	nginxNA := want{status: "not_affected", justification: "vulnerable_code_not_in_execute_path", format: "openvex",
		product: nginxPURL, file: "openvex-nginx.json (https://vex.example.com/docs/nginx-2026-03)",
		at: "2026-03-01T10:00:00Z", impact: "HTTP/2 disabled"}
	nginxPkg := "pkg:deb/debian/nginx@1.25.4-1~deb12u1?arch=amd64&distro=debian-12"
	libssl := "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
	zlib := "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"
	cases := []struct {
		name string
		q    Query
		want want
	}{
		{"oci purl, docker.io spelling", Query{Vulnerability: "CVE-2023-44487", Digest: nginxDigest, Repositories: []string{"docker.io/library/nginx"}, PackagePURL: nginxPkg}, nginxNA},
		{"oci purl, short official name", Query{Vulnerability: "CVE-2023-44487", Digest: nginxDigest, Repositories: []string{"nginx"}}, nginxNA},
		{"oci purl, registry-1 and a tag", Query{Vulnerability: "CVE-2023-44487", Digest: nginxDigest, Repositories: []string{"quay.io/x/y", "registry-1.docker.io/nginx:1.25"}}, nginxNA},
		{"oci purl, upper-case digest", Query{Vulnerability: "cve-2023-44487", Digest: strings.ToUpper(nginxDigest[:7]) + nginxDigest[7:], Repositories: []string{"index.docker.io/library/nginx"}}, nginxNA},
		{"alias GHSA to CVE, any case", Query{Vulnerability: "GHSA-QPPJ-FM5R-HXR3", Digest: nginxDigest, Repositories: []string{"docker.io/nginx"}}, nginxNA},
		{"wrong digest", Query{Vulnerability: "CVE-2023-44487", Digest: otherDigest, Repositories: []string{"docker.io/library/nginx"}}, want{}},
		{"wrong repository_url", Query{Vulnerability: "CVE-2023-44487", Digest: nginxDigest, Repositories: []string{"quay.io/nginx/nginx"}}, want{}},
		{"repository_url and no repository known", Query{Vulnerability: "CVE-2023-44487", Digest: nginxDigest}, want{}},
		{"other vulnerability", Query{Vulnerability: "CVE-2023-44488", Digest: nginxDigest, Repositories: []string{"nginx"}}, want{}},
		{"package-only, CVE to GHSA alias, any image",
			Query{Vulnerability: "CVE-2023-39325", Aliases: []string{"ghsa-4374-p667-p6c8"}, Digest: otherDigest, PackagePURL: "pkg:golang/golang.org/x/net@v0.17.0"},
			want{status: "not_affected", justification: "vulnerable_code_not_present", format: "openvex", product: "pkg:golang/golang.org/x/net@v0.17.0", at: "2026-03-01T10:00:00Z"}},
		{"package-only, other version", Query{Vulnerability: "GHSA-4374-p667-p6c8", Digest: otherDigest, PackagePURL: "pkg:golang/golang.org/x/net@v0.18.0"}, want{}},
		{"package-only, no package", Query{Vulnerability: "GHSA-4374-p667-p6c8", Digest: otherDigest}, want{}},
		{"latest statement wins, inherited document time",
			Query{Vulnerability: "CVE-2024-6119", Digest: nginxDigest, PackagePURL: libssl},
			want{status: "affected", format: "openvex", at: "2026-03-01T10:00:00Z", action: "Upgrade openssl"}},
		{"bare digest, subcomponent without version",
			Query{Vulnerability: "CVE-2024-5535", Digest: appDigest, PackagePURL: libssl},
			want{status: "not_affected", justification: "vulnerable_code_cannot_be_controlled_by_adversary", format: "openvex",
				product: appDigest + " > pkg:deb/debian/libssl3?arch=amd64&distro=debian-12", file: "openvex-digest-subcomponents.json (https://vex.example.com/docs/app-openssl)"}},
		{"subcomponent version matches, qualifiers ignored",
			Query{Vulnerability: "CVE-2024-5535", Digest: appDigest, PackagePURL: "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64"},
			want{status: "not_affected", product: appDigest + " > pkg:deb/debian/openssl@3.0.11-1~deb12u2"}},
		{"subcomponent version differs: the image-wide statement",
			Query{Vulnerability: "CVE-2024-5535", Digest: appDigest, PackagePURL: "pkg:deb/debian/openssl@3.0.13-1~deb12u1"},
			want{status: "under_investigation", product: appDigest}},
		{"subcomponents on another image", Query{Vulnerability: "CVE-2024-5535", Digest: otherDigest, PackagePURL: libssl}, want{}},
		{"purl identifier, localhost registry",
			Query{Vulnerability: "CVE-2024-2511", Digest: webDigest, Repositories: []string{"localhost:5000/shop/web"}},
			want{status: "fixed", format: "openvex"}},
		{"purl identifier, other port", Query{Vulnerability: "CVE-2024-2511", Digest: webDigest, Repositories: []string{"localhost:5001/shop/web"}}, want{}},
		{"sha-256 hash as the digest", Query{Vulnerability: "CVE-2024-2511", Digest: shopDigest},
			want{status: "fixed", format: "openvex", product: shopDigest, at: "2026-04-10T08:30:00Z"}},
		{"CycloneDX image component, later than the hash statement",
			Query{Vulnerability: "CVE-2024-2511", Digest: shopDigest, Repositories: []string{shopRepo}},
			want{status: "fixed", format: "cyclonedx", at: "2026-05-02T11:00:00Z",
				file: "cyclonedx-vex.json (urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79)"}},
		{"CycloneDX bom-ref inside the BOM's image",
			Query{Vulnerability: "CVE-2023-45853", Digest: shopDigest, Repositories: []string{shopRepo}, PackagePURL: zlib},
			want{status: "not_affected", justification: "code_not_reachable", format: "cyclonedx", at: "2026-05-01T09:00:00Z", impact: "minizip is not built"}},
		{"CycloneDX package on another image", Query{Vulnerability: "CVE-2023-45853", Digest: otherDigest, Repositories: []string{shopRepo}, PackagePURL: zlib}, want{}},
		{"CycloneDX false positive", Query{Vulnerability: "CVE-2022-48174", Digest: shopDigest, Repositories: []string{shopRepo}, PackagePURL: "pkg:apk/alpine/busybox@1.36.1-r2?arch=x86_64&distro=3.19.1"},
			want{status: "not_affected", justification: "false_positive", at: "2026-05-02T12:00:00Z", impact: "busybox ash is removed"}},
		{"CycloneDX exploitable, purl in place", Query{Vulnerability: "CVE-2024-24790", Digest: shopDigest, Repositories: []string{shopRepo}, PackagePURL: "pkg:golang/stdlib@1.22.1"},
			want{status: "affected", action: "Rebuild with Go 1.22.4"}},
		{"CycloneDX in triage by reference id", Query{Vulnerability: "CVE-2024-3094", Digest: shopDigest, Repositories: []string{shopRepo}, PackagePURL: "pkg:deb/debian/liblzma5@5.6.0-0.2?arch=amd64"},
			want{status: "under_investigation", format: "cyclonedx"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := set.Lookup(c.q)
			check(t, got, c.want)
		})
	}
}

func check(t *testing.T, got *result.VEXStatement, w want) {
	t.Helper()
	if w.status == "" {
		if got != nil {
			t.Fatalf("got %+v, want no statement", got)
		}
		return
	}
	if got == nil {
		t.Fatalf("no statement, want %s", w.status)
	}
	if got.Status != w.status {
		t.Errorf("status %q, want %q (%+v)", got.Status, w.status, got)
	}
	for _, f := range []struct{ name, got, want string }{
		{"justification", got.Justification, w.justification},
		{"format", got.Format, w.format},
		{"product", got.Product, w.product},
	} {
		if f.want != "" && f.got != f.want {
			t.Errorf("%s %q, want %q", f.name, f.got, f.want)
		}
	}
	if file := "testdata" + string(filepath.Separator) + w.file; w.file != "" && got.Document != file {
		t.Errorf("document %q, want %q", got.Document, file)
	}
	if w.at != "" {
		at, _ := time.Parse(time.RFC3339, w.at)
		if !got.Timestamp.Equal(at) {
			t.Errorf("timestamp %s, want %s", got.Timestamp, at)
		}
	}
	if !strings.Contains(got.Impact, w.impact) || !strings.Contains(got.Action, w.action) {
		t.Errorf("impact %q action %q, want them to hold %q and %q", got.Impact, got.Action, w.impact, w.action)
	}
}

func TestLookupEmptySet(t *testing.T) {
	var nilSet *Set
	if got := nilSet.Lookup(Query{Vulnerability: "CVE-2023-44487", Digest: nginxDigest}); got != nil {
		t.Errorf("nil set matched %+v", got)
	}
	set, err := Load(context.Background(), nil)
	if err != nil || set.Statements() != 0 {
		t.Fatalf("Load(nil) = %v, %v; want an empty set", set, err)
	}
}

func TestNormaliseRepo(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                             "docker.io/library/nginx",
		"docker.io/nginx":                   "docker.io/library/nginx",
		"index.docker.io/library/nginx":     "docker.io/library/nginx",
		"registry-1.docker.io/nginx":        "docker.io/library/nginx",
		"https://index.docker.io/bitnami/x": "docker.io/bitnami/x",
		"localhost:5000/shop/web":           "localhost:5000/shop/web",
		"Registry.Shop.Example/shop/web/":   "registry.shop.example/shop/web",
		"ghcr.io/org/app:1.2@" + webDigest:  "ghcr.io/org/app",
	} {
		got, ok := normaliseRepo(in)
		if !ok || got != want {
			t.Errorf("normaliseRepo(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, ok := normaliseRepo("not a repo!"); ok {
		t.Errorf("normaliseRepo accepted a bad name as %q", got)
	}
}
