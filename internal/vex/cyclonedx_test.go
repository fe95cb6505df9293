package vex

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestCycloneDXNesting: a package nested in an image component is scoped
// to that image; without an image around it, a package stands alone; a
// container is known by its version or its SHA-256 hash.
func TestCycloneDXNesting(t *testing.T) {
	bom := `{
  "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
  "metadata": {"component": {"type": "application", "bom-ref": "platform", "name": "platform"}},
  "components": [
    {"type": "container", "bom-ref": "api", "name": "shop/api", "version": "` + appDigest + `",
     "components": [{"type": "library", "bom-ref": "api-zlib", "name": "zlib1g", "purl": "pkg:deb/debian/zlib1g@1.2.13"}]},
    {"type": "container", "bom-ref": "worker", "name": "shop/worker",
     "hashes": [{"alg": "SHA-256", "content": "` + strings.TrimPrefix(webDigest, "sha256:") + `"}]},
    {"type": "library", "bom-ref": "loose-zlib", "name": "zlib1g", "purl": "pkg:deb/debian/zlib1g@1.2.13"}
  ],
  "vulnerabilities": [
    {"id": "CVE-2023-45853", "analysis": {"state": "not_affected", "justification": "requires_dependency"}, "affects": [{"ref": "api-zlib"}]},
    {"id": "CVE-2022-37434", "analysis": {"state": "resolved_with_pedigree"}, "affects": [{"ref": "loose-zlib"}]},
    {"id": "CVE-2018-25032", "analysis": {"state": "exploitable", "response": ["will_not_fix", "workaround_available"]}, "affects": [{"ref": "worker"}]}
  ]
}`
	path := filepath.Join(t.TempDir(), "platform.cdx.json")
	write(t, path, bom)
	set, err := Load(context.Background(), []string{path})
	if err != nil {
		t.Fatal(err)
	}
	zlib := "pkg:deb/debian/zlib1g@1.2.13?arch=amd64"
	for _, c := range []struct {
		q    Query
		want string
	}{
		{Query{Vulnerability: "CVE-2023-45853", Digest: appDigest, PackagePURL: zlib}, "not_affected requires_dependency " + appDigest + " > pkg:deb/debian/zlib1g@1.2.13"},
		{Query{Vulnerability: "CVE-2023-45853", Digest: otherDigest, PackagePURL: zlib}, ""},
		{Query{Vulnerability: "CVE-2022-37434", Digest: otherDigest, PackagePURL: zlib}, "fixed  pkg:deb/debian/zlib1g@1.2.13"},
		{Query{Vulnerability: "CVE-2022-37434", Digest: otherDigest, PackagePURL: "pkg:deb/debian/zlib1g@1.2.11"}, ""},
		{Query{Vulnerability: "CVE-2018-25032", Digest: webDigest, PackagePURL: zlib}, "affected  " + webDigest},
	} {
		got := ""
		if st := set.Lookup(c.q); st != nil {
			got = st.Status + " " + st.Justification + " " + st.Product
			if st.Status == "affected" && st.Action != "response: will_not_fix, workaround_available" {
				t.Errorf("%s: action %q", c.q.Vulnerability, st.Action)
			}
		}
		if got != c.want {
			t.Errorf("%+v: %q, want %q", c.q, got, c.want)
		}
	}
}
