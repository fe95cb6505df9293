package vulndb

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestClassifyMetricsInputs: `db import` recognises NVD and CVE 5 inputs
// by content in every shape it reads, beside the OSV, EPSS and KEV parts.
func TestClassifyMetricsInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nvd := readFixtures(t, nvdDir)
	cve5 := readFixtures(t, cve5Dir)
	page := write("feed/nvdcve-2.0-2022.json.gz", gz(t, nvdPage(t, sortedValues(nvd)[:3], 3)))
	record := write("one.json", nvd["CVE-2022-1292.json"])
	cveZip := write("cves.zip", zipOf(t, map[string][]byte{"cves/2021/44xxx/CVE-2021-44228.json": cve5["2021/44xxx/CVE-2021-44228.json"]}))
	osvZip := write("npm.zip", zipOf(t, map[string][]byte{"GHSA.json": []byte(`{"id":"GHSA-x","affected":[]}`)}))
	parts := filepath.Join(dir, "parts")
	write("parts/osv/GO-1.json", []byte(`{}`))
	write("parts/nvd/CVE-2022-1292.json", nvd["CVE-2022-1292.json"])
	write("parts/cve/2021/44xxx/CVE-2021-44228.json", cve5["2021/44xxx/CVE-2021-44228.json"])

	in, err := ClassifyInputs([]string{nvdDir, cve5Dir, page, record, cveZip, osvZip, parts, filepath.Dir(page)})
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		NVD(nvdDir), CVE5(cve5Dir), NVD(page), NVD(record), CVE5(cveZip), OSVZip(osvZip),
		OSVDir(filepath.Join(parts, "osv")), NVD(filepath.Join(parts, "nvd")), CVE5(filepath.Join(parts, "cve")),
		NVD(filepath.Dir(page)),
	}
	if diff := cmp.Diff(want, in.Sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
}
