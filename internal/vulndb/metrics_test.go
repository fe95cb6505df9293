package vulndb

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// metricsDB imports the real OSV, NVD and CVE 5 fixtures into dir.
func metricsDB(t *testing.T, sources ...Source) *DB {
	t.Helper()
	dir := t.TempDir()
	if _, err := fixedImporter().Import(context.Background(), dir, append([]Source{OSVDir(filepath.Join(osvDir, "npm"))}, sources...)...); err != nil {
		t.Fatal(err)
	}
	return openDB(t, dir)
}

func mustMetrics(t *testing.T, db *DB, cve string) Metrics {
	t.Helper()
	m, ok := db.Metrics(context.Background(), cve)
	if !ok {
		t.Fatalf("no metrics for %s", cve)
	}
	return m
}

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestMetricsFromRealRecords checks what the store keeps of real NVD and
// CVE 5 records against the records themselves.
func TestMetricsFromRealRecords(t *testing.T) {
	db := metricsDB(t, NVD(nvdDir), CVE5(cve5Dir))

	// NVD re-analysed CVE-2022-1292 as local (7.3); CISA ADP scored it 9.8.
	got := mustMetrics(t, db, "CVE-2022-1292")
	want := Metrics{
		CVE: "CVE-2022-1292", Published: day("2022-05-03T16:15:18Z"), Modified: day("2025-08-11T17:19:56Z"),
		NVDModified: day("2025-08-11T17:19:56Z"),
		CVSS: []CVSSMetric{
			{Scorer: "nvd", Source: "nvd@nist.gov", Type: "Primary", From: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H", Score: 7.3},
			{Scorer: "cisa-adp", Source: cisaADPOrg, Type: "Secondary", From: "nvd", Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8},
			{Scorer: "nvd", Source: "nvd@nist.gov", Type: "Primary", From: "nvd", Version: "2.0", Vector: "AV:N/AC:L/Au:N/C:C/I:C/A:C", Score: 10},
		},
		CWEs: []string{"CWE-78"}, Sources: []string{"nvd"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CVE-2022-1292 (-want +got):\n%s", diff)
	}

	// CVE-2021-44228: CISA's decision from the CVE 5 ADP container, KEV
	// both from CISA ADP and NVD, NVD references tagged Exploit.
	got = mustMetrics(t, db, "CVE-2021-44228")
	wantSSVC := &SSVC{Exploitation: "active", Automatable: "yes", TechnicalImpact: "total", Timestamp: day("2025-02-04T14:25:34Z"), From: "cve5"}
	if diff := cmp.Diff(wantSSVC, got.SSVC); diff != "" {
		t.Errorf("CVE-2021-44228 SSVC (-want +got):\n%s", diff)
	}
	if !got.KEV || !got.ExploitReference || !cmp.Equal(got.Sources, []string{"nvd", "cve5"}) || !got.CVE5Modified.Equal(day("2025-10-21T23:25:23Z")) {
		t.Errorf("CVE-2021-44228: KEV %v, exploit reference %v, sources %v, CVE 5 modified %v", got.KEV, got.ExploitReference, got.Sources, got.CVE5Modified)
	}
	if !cmp.Equal(got.CWEs, []string{"CWE-20", "CWE-400", "CWE-502", "CWE-917"}) {
		t.Errorf("CVE-2021-44228 CWEs %v", got.CWEs)
	}

	// The CNA's CVSS v4.0 vector, stored without NVD's spelled-out X metrics.
	got = mustMetrics(t, db, "CVE-2024-47764")
	if len(got.CVSS) != 1 || got.CVSS[0] != (CVSSMetric{Scorer: "cna", Source: "security-advisories@github.com", Type: "Secondary", From: "nvd",
		Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", Score: 6.9}) {
		t.Errorf("CVE-2024-47764 CVSS %+v", got.CVSS)
	}
	if got.SSVC == nil || got.SSVC.Exploitation != "none" || got.SSVC.Automatable != "no" || got.SSVC.TechnicalImpact != "partial" {
		t.Errorf("CVE-2024-47764 SSVC %+v", got.SSVC)
	}

	// Rejected, no metrics at all: nothing stored. Not a CVE id: nothing.
	for _, id := range []string{"CVE-2022-23529", "GHSA-8hc4-vh64-cxmj", "CVE-1999-0000"} {
		if m, ok := db.Metrics(context.Background(), id); ok {
			t.Errorf("%s: metrics %+v, want none", id, m)
		}
	}
	mi := db.Metadata().Metrics
	if mi == nil || mi.CVEs != db.metrics.n || mi.WithSSVC == 0 || len(mi.Sources) != 2 || mi.Sources[0].NVDRecords != 108 || mi.Sources[1].CVE5Records != 49 {
		t.Errorf("metrics metadata %+v", mi)
	}
}

// readFixtures returns the raw bytes of every JSON file under dir.
func readFixtures(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nvdPage wraps real NVD cve objects as an API 2.0 page / yearly feed.
func nvdPage(t *testing.T, recs [][]byte, total int) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`{"resultsPerPage":` + itoa(len(recs)) + `,"startIndex":0,"totalResults":` + itoa(total) +
		`,"format":"NVD_CVE","version":"2.0","timestamp":"2026-10-09T10:00:00.000","vulnerabilities":[`)
	for i, r := range recs {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"cve":`)
		b.Write(r)
		b.WriteString("}")
	}
	b.WriteString("]}")
	return b.Bytes()
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sortedValues(m map[string][]byte) [][]byte {
	var out [][]byte
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

func sortedKeys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// allMetrics is every answer a DB gives for the CVEs of the fixtures.
func allMetrics(t *testing.T, db *DB) map[string]Metrics {
	t.Helper()
	out := map[string]Metrics{}
	for i := range db.metrics.n {
		c := db.metrics.key(i)
		out[strings.Clone(c)] = mustMetrics(t, db, c)
	}
	return out
}

// TestMetricsInputShapes: the same real records imported as NVD API pages
// (gzipped, as the yearly feeds are), one file each, a CVE 5 zip and the
// CVE List's zip inside a zip give the same store as the directories.
func TestMetricsInputShapes(t *testing.T) {
	want := allMetrics(t, metricsDB(t, NVD(nvdDir), CVE5(cve5Dir)))
	nvd, cve5 := readFixtures(t, nvdDir), readFixtures(t, cve5Dir)
	recs := sortedValues(nvd)

	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	half := len(recs) / 2
	write("feeds/nvdcve-2.0-a.json.gz", gz(t, nvdPage(t, recs[:half], len(recs))))
	write("feeds/nvdcve-2.0-b.json", nvdPage(t, recs[half:], len(recs)))
	cveFiles := map[string][]byte{}
	for k, v := range cve5 {
		cveFiles["cves/"+k] = v
	}
	cveZip := write("cves.zip", zipOf(t, cveFiles))
	nested := write("export.zip.zip", zipOf(t, map[string][]byte{"cves.zip": zipOf(t, cveFiles)}))

	for name, srcs := range map[string][]Source{
		"feeds and zip":          {NVD(filepath.Join(dir, "feeds")), CVE5(cveZip)},
		"feeds and zip-in-zip":   {NVD(filepath.Join(dir, "feeds")), CVE5(nested)},
		"single gzipped feed":    {NVD(write("all.json.gz", gz(t, nvdPage(t, recs, len(recs))))), CVE5(cve5Dir)},
		"NVD records one by one": {NVD(nvdDir), CVE5(cve5Dir)},
	} {
		got := allMetrics(t, metricsDB(t, srcs...))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-dirs +this):\n%s", name, diff)
		}
	}
}

// TestMetricsNewestRecordWins: of two copies of one CVE's NVD record the
// newer lastModified is kept, in whatever order they arrive.
func TestMetricsNewestRecordWins(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(nvdDir, "CVE-2022-1292.json"))
	if err != nil {
		t.Fatal(err)
	}
	// An older copy as NVD first scored it: network, 9.8 Primary.
	older := bytes.Replace(orig, []byte(`"lastModified": "2025-08-11T17:19:56.250"`), []byte(`"lastModified": "2022-06-01T00:00:00.000"`), 1)
	older = bytes.Replace(older, []byte("CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H"), []byte("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), 1)
	if bytes.Equal(older, orig) {
		t.Fatal("fixture changed: lastModified or vector not found")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a-new.json"), orig, 0o644)
	os.WriteFile(filepath.Join(dir, "b-old.json"), older, 0o644)
	for _, order := range [][]Source{{NVD(dir)}, {NVD(filepath.Join(dir, "b-old.json")), NVD(filepath.Join(dir, "a-new.json"))}} {
		db := metricsDB(t, order...)
		m := mustMetrics(t, db, "CVE-2022-1292")
		if m.CVSS[0].Score != 7.3 || !m.NVDModified.Equal(day("2025-08-11T17:19:56Z")) {
			t.Errorf("kept %+v, want the 2025 record", m.CVSS[0])
		}
		n := 0
		for _, s := range db.Metadata().Metrics.Sources {
			n += s.Superseded
		}
		if n != 1 {
			t.Errorf("%d records superseded, want 1", n)
		}
	}
}

// TestMetricsHostileInputsKeepDB: a truncated feed, a record over the size
// cap, JSON nested a million deep and a malformed record each fail the
// import and leave the current database byte for byte.
func TestMetricsHostileInputsKeepDB(t *testing.T) {
	dir := t.TempDir()
	importTestdata(t, dir)
	before, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	recs := sortedValues(readFixtures(t, nvdDir))
	page := nvdPage(t, recs, len(recs))
	huge := append([]byte(`{"id":"CVE-2022-1292","sourceIdentifier":"x","descriptions":[{"value":"`), bytes.Repeat([]byte("A"), 5<<20)...)
	huge = append(huge, `"}]}`...)
	deep := append(append([]byte(`{"cve":`), bytes.Repeat([]byte("["), 1_000_000)...), bytes.Repeat([]byte("]"), 1_000_000)...)
	deep = append(deep, '}')
	in := t.TempDir()
	cases := map[string][]byte{
		"truncated feed":       page[:len(page)*2/3],
		"truncated gzip feed":  gz(t, page)[:len(gz(t, page))/2],
		"huge record":          huge,
		"million-deep nesting": deep,
		"malformed record":     []byte(`{"vulnerabilities":[{"cve":{"id":"CVE-2022-1292","metrics":{"cvssMetricV31":[{"cvssData":7}]}}}]}`),
		"text after the JSON":  append(append([]byte(nil), recs[0]...), []byte(" {}")...),
	}
	want := map[string]string{
		"truncated feed": "truncated JSON", "truncated gzip feed": "unexpected EOF", "huge record": "larger than",
		"million-deep nesting": "nested deeper than 64", "malformed record": "invalid JSON", "text after the JSON": "text after the end",
	}
	for name, b := range cases {
		p := filepath.Join(in, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := fixedImporter().Import(context.Background(), dir, OSVDir(osvDir), NVD(p))
		if err == nil || !strings.Contains(err.Error(), want[name]) {
			t.Errorf("%s: import error %v, want one saying %q", name, err, want[name])
		}
		after, _ := os.ReadFile(filepath.Join(dir, FileName))
		if !bytes.Equal(before, after) {
			t.Errorf("%s: the current database changed", name)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	if len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}

// TestSplitJSON covers the splitter on its own: envelope, elements,
// strings holding brackets and escaped quotes, and whole-document records.
func TestSplitJSON(t *testing.T) {
	collect := func(doc string) ([]string, string, error) {
		var recs []string
		env, _, err := splitJSON(strings.NewReader(doc), 1<<10, make([]byte, 7), func(b []byte) error { recs = append(recs, string(b)); return nil })
		return recs, string(env), err
	}
	recs, env, err := collect(` {"totalResults": 2, "vulnerabilities" : [ {"cve":{"id":"a]}\"["}} , {"cve":{"x":[1,{"y":"}"}]}} ], "timestamp":"t"} `)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(recs, []string{`{"cve":{"id":"a]}\"["}}`, `{"cve":{"x":[1,{"y":"}"}]}}`}) {
		t.Errorf("records %q", recs)
	}
	var e struct {
		TotalResults int    `json:"totalResults"`
		Timestamp    string `json:"timestamp"`
	}
	if err := json.Unmarshal([]byte(env), &e); err != nil || e.TotalResults != 2 || e.Timestamp != "t" {
		t.Errorf("envelope %q: %+v %v", env, e, err)
	}
	// A nested "vulnerabilities" key is not the array; the document is one record.
	recs, _, err = collect(`{"id":"CVE-1","x":{"vulnerabilities":[{"a":1}]}}`)
	if err != nil || len(recs) != 1 || recs[0] != `{"id":"CVE-1","x":{"vulnerabilities":[{"a":1}]}}` {
		t.Errorf("single record: %q %v", recs, err)
	}
	for doc, want := range map[string]string{
		``: "empty", `[1]`: "not a JSON object", `{"a":"b`: "truncated", `{"vulnerabilities":[1]}`: "not an object",
		`{"vulnerabilities":["x"]}`: "not an object", `{}}`: "text after", `{"a":"` + strings.Repeat("x", 2000) + `"}`: "larger than",
	} {
		if _, _, err := collect(doc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.30q: error %v, want %q", doc, err, want)
		}
	}
}
