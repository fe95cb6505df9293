package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// ovOffline refuses every schema not added to the compiler.
type ovOffline struct{}

func (ovOffline) Load(url string) (any, error) {
	return nil, errors.New("schema " + url + " is not in testdata/schemas")
}

func TestOpenVEXValidatesAgainstPublishedSchema(t *testing.T) {
	const url = "https://github.com/openvex/spec/openvex_json_schema_0.2.0.json"
	f, err := os.Open(filepath.Join("testdata", "schemas", "openvex_json_schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(ovOffline{})
	c.AssertFormat()
	if err := c.AddResource(url, schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	cluster, _ := ovDocument()
	// Two packages without a purl, the same finding: two statements that
	// must still differ (the schema wants unique statements).
	noPURL, _ := ovDocument()
	jar := func(v string) match.PackageRef {
		return match.PackageRef{Name: "app.jar", Version: v, Ecosystem: "Maven", Type: "java-archive"}
	}
	noPURL.Risks = []result.Risk{
		ovRisk("CVE-2024-4001", jar("1.0"), ovWeb, "web", ovWatched(true, 0)),
		ovRisk("CVE-2024-4001", jar("2.0"), ovWeb, "web", ovWatched(true, 0)),
	}
	if st := ovStatuses(t, ovWrite(t, noPURL)); st != "CVE-2024-4001=under_investigation CVE-2024-4001=under_investigation " {
		t.Errorf("packages without a purl: %s, want under_investigation (nothing names the package)", st)
	}
	for name, doc := range map[string]*result.Document{"cluster scan": cluster, "image scan": ovScanDocument(), "no purl": noPURL} {
		out := ovWrite(t, doc)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: output does not validate against the OpenVEX schema:\n%v\n%s", name, err, out)
		}
	}
	// The schema is strict enough to catch what matters: a not_affected
	// statement without a justification or an impact statement.
	bad := `{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/1", "author": "x", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
	"statements": [{"vulnerability": {"name": "CVE-2024-1"}, "products": [{"@id": "pkg:deb/debian/zlib1g"}], "status": "not_affected"}]}`
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
	if err := sch.Validate(inst); err == nil {
		t.Error("the schema accepted not_affected without a justification")
	}
}
