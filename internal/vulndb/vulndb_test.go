package vulndb

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/runlens/runlens/internal/osv"
)

const (
	osvDir   = "testdata/osv"
	epssFile = "testdata/epss/epss_sample.csv"
	kevFile  = "testdata/kev/known_exploited_vulnerabilities.json.gz"
	nvdDir   = "testdata/nvd"
	cve5Dir  = "testdata/cve"
)

var builtAt = time.Date(2026, 9, 30, 8, 0, 0, 0, time.UTC)

func fixedImporter() *Importer { return &Importer{Now: func() time.Time { return builtAt }} }

// importTestdata builds a DB from every real record, EPSS, KEV and the
// NVD and CVE 5 records.
func importTestdata(t testing.TB, dir string) Metadata {
	t.Helper()
	m, err := fixedImporter().Import(context.Background(), dir, OSVDir(osvDir), EPSS(epssFile), KEV(kevFile), NVD(nvdDir), CVE5(cve5Dir))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func openDB(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// oracle reads the fixture JSON directly: the expected index, built
// without any of the store's code, names in osv.NormalizeName's form.
type oracle struct {
	recs    map[string]*osv.Vulnerability
	pkgs    map[[2]string][]string // (ecosystem, normalized name) -> ids
	aliases map[string][]string
}

func loadOracle(t testing.TB) *oracle {
	t.Helper()
	o := &oracle{recs: map[string]*osv.Vulnerability{}, pkgs: map[[2]string][]string{}, aliases: map[string][]string{}}
	err := filepath.WalkDir(osvDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		v := new(osv.Vulnerability)
		if err := json.Unmarshal(b, v); err != nil {
			return err
		}
		o.recs[v.ID] = v
		for _, a := range v.Affected {
			k := [2]string{a.Package.Ecosystem, osv.NormalizeName(a.Package.Ecosystem, a.Package.Name)}
			if !slices.Contains(o.pkgs[k], v.ID) {
				o.pkgs[k] = append(o.pkgs[k], v.ID)
			}
		}
		for _, a := range v.Aliases {
			o.link(v.ID, a)
			o.link(a, v.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range o.pkgs {
		slices.Sort(o.pkgs[k])
	}
	for k := range o.aliases {
		slices.Sort(o.aliases[k])
	}
	return o
}

func (o *oracle) link(a, b string) {
	if !slices.Contains(o.aliases[a], b) {
		o.aliases[a] = append(o.aliases[a], b)
	}
}

func ids(vs []*osv.Vulnerability) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

// TestLookupEveryPackage checks every (ecosystem, package) of the real
// records against the oracle, and every record against its JSON.
func TestLookupEveryPackage(t *testing.T) {
	dir := t.TempDir()
	meta := importTestdata(t, dir)
	o := loadOracle(t)
	db := openDB(t, dir)
	ctx := context.Background()
	if meta.Advisories != len(o.recs) || meta.Bad != 0 || meta.Packages != len(o.pkgs) {
		t.Fatalf("metadata: advisories %d bad %d packages %d; want %d, 0, %d", meta.Advisories, meta.Bad, meta.Packages, len(o.recs), len(o.pkgs))
	}
	for k, want := range o.pkgs {
		got, err := db.Lookup(ctx, k[0], k[1])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, ids(got)); diff != "" {
			t.Errorf("Lookup(%q, %q) ids (-want +got):\n%s", k[0], k[1], diff)
		}
	}
	for id, want := range o.recs {
		got, ok, err := db.Get(ctx, id)
		if err != nil || !ok {
			t.Fatalf("Get(%s) = %v, %v", id, ok, err)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Get(%s) (-json +store):\n%s", id, diff)
		}
	}
}

func TestLookupNormalization(t *testing.T) {
	dir := t.TempDir()
	importTestdata(t, dir)
	db := openDB(t, dir)
	tests := []struct {
		eco, name string
		want      []string
	}{
		// A real advisory names the npm package "Axios"; the registry says "axios".
		{"npm", "axios", []string{"GHSA-8hc4-vh64-cxmj", "GHSA-wf5p-g6vw-rhxx"}},
		{"npm", "Axios", []string{"GHSA-8hc4-vh64-cxmj", "GHSA-wf5p-g6vw-rhxx"}},
		{"PyPI", "Jinja2", []string{"GHSA-h5c8-rqwp-cp95"}},
		{"PyPI", "jinja2", []string{"GHSA-h5c8-rqwp-cp95"}},
		{"PyPI", "JINJA_2", nil}, // PEP 503 keeps digits: jinja-2 is another name
		{"Maven", "org.apache.logging.log4j:log4j-core", []string{"GHSA-7rjr-3q55-vv33", "GHSA-jfh8-c2jp-5v3q"}},
		{"Maven", "ORG.apache.logging.log4j:log4j-core", nil}, // exact outside npm/PyPI
		{"Debian:9", "openssl", []string{"DLA-3008-1"}},
		{"Debian:12", "openssl", nil},
		{"Alpine:v3.20", "musl", []string{"ALPINE-CVE-2025-26519"}},
		{"Ubuntu:22.04:LTS", "apache-log4j2", []string{"UBUNTU-CVE-2021-44228"}},
		{"Go", "no/such/module", nil},
	}
	for _, tc := range tests {
		got, err := db.Lookup(context.Background(), tc.eco, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
			t.Errorf("Lookup(%q, %q) (-want +got):\n%s", tc.eco, tc.name, diff)
		}
	}
}

func TestAliasesBothWays(t *testing.T) {
	dir := t.TempDir()
	importTestdata(t, dir)
	db := openDB(t, dir)
	o := loadOracle(t)
	for id, want := range o.aliases {
		if diff := cmp.Diff(want, db.Aliases(id)); diff != "" {
			t.Errorf("Aliases(%s) (-want +got):\n%s", id, diff)
		}
	}
	// upstream/related are weak links, kept out of Aliases.
	if got := db.Aliases("UBUNTU-CVE-2021-44228"); got != nil {
		t.Errorf("Aliases(UBUNTU-CVE-2021-44228) = %v, want none (its CVE is only `related`)", got)
	}
	if got := db.Related("CVE-2021-44228"); !slices.Contains(got, "UBUNTU-CVE-2021-44228") {
		t.Errorf("Related(CVE-2021-44228) = %v, want UBUNTU-CVE-2021-44228 in it", got)
	}
	if got := db.Related("DLA-3008-1"); !slices.Contains(got, "CVE-2022-1292") {
		t.Errorf("Related(DLA-3008-1) = %v, want its upstream CVE-2022-1292", got)
	}
}

func TestThreat(t *testing.T) {
	dir := t.TempDir()
	meta := importTestdata(t, dir)
	db := openDB(t, dir)
	ctx := context.Background()
	log4shell := Threat{
		CVE: "CVE-2021-44228", HasEPSS: true, EPSS: 0.99999, Percentile: 1,
		ScoreDate: time.Date(2026, 9, 29, 12, 0, 22, 0, time.UTC), ModelVersion: "v2026.06.15",
		InKEV: true, KEVDateAdded: time.Date(2021, 12, 10, 0, 0, 0, 0, time.UTC),
		KEVDueDate: time.Date(2021, 12, 24, 0, 0, 0, 0, time.UTC), KnownRansomware: true,
	}
	tests := []struct {
		id     string
		want   Threat
		wantOK bool
	}{
		{"CVE-2021-44228", log4shell, true},
		{"GHSA-jfh8-c2jp-5v3q", log4shell, true},   // through its alias
		{"UBUNTU-CVE-2021-44228", log4shell, true}, // through its embedded/related CVE
		{"CVE-1999-0001", Threat{CVE: "CVE-1999-0001", HasEPSS: true, EPSS: 0.03351, Percentile: 0.88255,
			ScoreDate: log4shell.ScoreDate, ModelVersion: "v2026.06.15"}, true},
		{"CVE-2099-0001", Threat{}, false},
		{"GHSA-nope", Threat{}, false},
	}
	for _, tc := range tests {
		got, ok := db.Threat(ctx, tc.id)
		if ok != tc.wantOK {
			t.Errorf("Threat(%s) ok = %v, want %v", tc.id, ok, tc.wantOK)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Threat(%s) (-want +got):\n%s", tc.id, diff)
		}
	}
	if meta.KEV == nil || meta.KEV.Count < 1400 || meta.EPSS == nil || meta.EPSS.Rows != 510 {
		t.Errorf("threat metadata: KEV %+v EPSS %+v", meta.KEV, meta.EPSS)
	}
}

func TestWithdrawnKept(t *testing.T) {
	dir := t.TempDir()
	meta := importTestdata(t, dir)
	db := openDB(t, dir)
	v, ok, err := db.Get(context.Background(), "GO-2022-0617")
	if err != nil || !ok {
		t.Fatalf("Get(GO-2022-0617) = %v, %v", ok, err)
	}
	if v.Withdrawn == nil {
		t.Error("GO-2022-0617 lost its withdrawn date")
	}
	if meta.Withdrawn < 10 {
		t.Errorf("Metadata.Withdrawn = %d, want the 10 withdrawn fixtures", meta.Withdrawn)
	}
}

func TestMetadata(t *testing.T) {
	dir := t.TempDir()
	importTestdata(t, dir)
	db := openDB(t, dir)
	m := db.Metadata()
	if !m.BuiltAt.Equal(builtAt) || m.Age(builtAt.Add(36*time.Hour)) != 36*time.Hour {
		t.Errorf("BuiltAt %v, Age wrong", m.BuiltAt)
	}
	wantEcos := []string{"Alpine:v3.16", "Alpine:v3.17", "Alpine:v3.18", "Alpine:v3.19", "Alpine:v3.20", "Alpine:v3.21",
		"Alpine:v3.22", "Alpine:v3.23", "Alpine:v3.24", "Debian:4.0", "Debian:9", "Go", "Maven", "PyPI",
		"Ubuntu:18.04:LTS", "Ubuntu:20.04:LTS", "Ubuntu:22.04:LTS", "Ubuntu:24.04:LTS",
		"Ubuntu:Pro:14.04:LTS", "Ubuntu:Pro:16.04:LTS", "Ubuntu:Pro:18.04:LTS", "npm"}
	if diff := cmp.Diff(wantEcos, db.Ecosystems()); diff != "" {
		t.Errorf("Ecosystems (-want +got):\n%s", diff)
	}
	if m.Ecosystems["npm"] != 17 || m.Ecosystems["Maven"] != 6 {
		t.Errorf("per-ecosystem counts: %v", m.Ecosystems)
	}
	wantSrc := []SourceInfo{
		{Kind: "osv-dir", Location: osvDir, FetchedAt: builtAt, Records: m.Advisories},
		{Kind: "epss", Location: epssFile, FetchedAt: builtAt, Records: 510},
		{Kind: "kev", Location: kevFile, FetchedAt: builtAt, Records: m.KEV.Count},
		{Kind: "nvd", Location: nvdDir, FetchedAt: builtAt, Records: 108},
		{Kind: "cve5", Location: cve5Dir, FetchedAt: builtAt, Records: 49},
	}
	if diff := cmp.Diff(wantSrc, m.Sources); diff != "" {
		t.Errorf("Sources (-want +got):\n%s", diff)
	}
}

func TestMissingDB(t *testing.T) {
	_, err := Open(context.Background(), t.TempDir())
	if !errors.Is(err, ErrNoDB) {
		t.Fatalf("Open(empty dir) = %v, want ErrNoDB", err)
	}
	for _, s := range []string{"runlens db update", "runlens db import"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not tell the user to run %q", err, s)
		}
	}
}
