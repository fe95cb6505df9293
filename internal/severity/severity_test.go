package severity

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/osv"
)

// TestParseCVSSPublished checks base scores against published values: the
// worked examples of the FIRST CVSS v2 guide and v3.x specification
// documents, NVD's scores for well-known CVEs, and FIRST's v4.0 calculator.
func TestParseCVSSPublished(t *testing.T) {
	tests := []struct {
		name   string
		vector string
		want   CVSS
		rating Rating
	}{
		// NVD: CVE-2021-44228 (Log4Shell).
		{"log4shell", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", CVSS{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0}, Critical},
		// NVD: CVE-2022-22965 (Spring4Shell), CVE-2014-6271 (Shellshock).
		{"spring4shell", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", CVSS{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8}, Critical},
		// FIRST v3.1 examples: CVE-2014-0160 Heartbleed 7.5, CVE-2013-1937
		// phpMyAdmin XSS 6.1, CVE-2013-0375 MySQL 6.4, CVE-2014-3566 POODLE 3.1,
		// CVE-2012-1516 VMware 9.9.
		{"heartbleed", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", CVSS{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5}, High},
		{"phpmyadmin-xss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", CVSS{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1}, Medium},
		{"mysql", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", CVSS{"3.1", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4}, Medium},
		{"poodle", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", CVSS{"3.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1}, Low},
		{"vmware", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", CVSS{"3.1", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9}, Critical},
		// FIRST v3.0 specification example (CVE-2013-1937).
		{"v30-phpmyadmin", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", CVSS{"3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1}, Medium},
		// GitHub/NVD scores of the lodash advisories in testdata.
		{"lodash-CVE-2021-23337", "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", CVSS{"3.1", "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2}, High},
		{"lodash-CVE-2020-28500", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", CVSS{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3}, Medium},
		// A score of zero.
		{"v31-none", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", CVSS{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0}, None},
		// FIRST CVSS v2 guide, section 3.3: CVE-2002-0392 7.8,
		// CVE-2003-0818 10.0, CVE-2003-0062 6.2.
		{"v2-apache-chunked", "AV:N/AC:L/Au:N/C:N/I:N/A:C", CVSS{"2.0", "AV:N/AC:L/Au:N/C:N/I:N/A:C", 7.8}, High},
		{"v2-ms-asn1", "AV:N/AC:L/Au:N/C:C/I:C/A:C", CVSS{"2.0", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0}, High},
		{"v2-nod32", "AV:L/AC:H/Au:N/C:C/I:C/A:C", CVSS{"2.0", "AV:L/AC:H/Au:N/C:C/I:C/A:C", 6.2}, Medium},
		{"v2-parenthesised", "(AV:N/AC:L/Au:N/C:N/I:N/A:C)", CVSS{"2.0", "(AV:N/AC:L/Au:N/C:N/I:N/A:C)", 7.8}, High},
		// FIRST v4.0 calculator: all high impacts on the vulnerable system 9.3,
		// on both systems 10.0; confidentiality only (GitHub's 8.7).
		{"v4-vuln-system", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", CVSS{"4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3}, Critical},
		{"v4-all-high", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", CVSS{"4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0}, Critical},
		{"v4-conf-only", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N", CVSS{"4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N", 8.7}, High},
		// Threat metrics do not change the base score (CVSS-B).
		{"v4-threat-ignored", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", CVSS{"4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 9.3}, Critical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCVSS(tt.vector)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseCVSS(%q) (-want +got):\n%s", tt.vector, diff)
			}
			if r := got.Rating(); r != tt.rating {
				t.Errorf("rating = %v, want %v", r, tt.rating)
			}
		})
	}
}

func TestParseCVSSErrors(t *testing.T) {
	for _, vec := range []string{
		"",
		"CVSS:3.1/AV:N",
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:5.0/AV:N",
		"CVSS:4.0/AV:N/AC:L",
		"AV:N/AC:L/Au:N",
		"high",
	} {
		if got, err := ParseCVSS(vec); err == nil {
			t.Errorf("ParseCVSS(%q) = %+v, want error", vec, got)
		}
	}
}

func TestParseWord(t *testing.T) {
	tests := []struct {
		word string
		want Rating
		ok   bool
	}{
		{"CRITICAL", Critical, true}, {"HIGH", High, true}, {"MODERATE", Medium, true},
		{"MEDIUM", Medium, true}, {"LOW", Low, true}, {"NONE", None, true},
		// Ubuntu priorities.
		{"negligible", Low, true}, {"low", Low, true}, {"medium", Medium, true},
		{"high", High, true}, {"critical", Critical, true}, {"untriaged", Unknown, false},
		// Debian urgencies with tracker markers.
		{"unimportant", Low, true}, {"low**", Low, true}, {"medium*", Medium, true},
		{"not yet assigned", Unknown, false}, {"end-of-life", Unknown, false},
		{"", Unknown, false},
	}
	for _, tt := range tests {
		got, ok := ParseWord(tt.word)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseWord(%q) = %v, %v; want %v, %v", tt.word, got, ok, tt.want, tt.ok)
		}
	}
}

func loadRecord(t *testing.T, name string) *osv.Vulnerability {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v osv.Vulnerability
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// TestFromRecordReal runs FromRecord over real advisories (testdata/README.md).
func TestFromRecordReal(t *testing.T) {
	log4shell := &CVSS{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0}
	tests := []struct {
		file string
		want Result
	}{
		{"GHSA-jfh8-c2jp-5v3q.json", Result{Rating: Critical, Source: FromCVSS, CVSS: log4shell, DatabaseWord: "CRITICAL"}},
		// Empty severity array: GitHub's word is used, as given.
		{"GHSA-8hc4-vh64-cxmj.json", Result{Rating: High, Source: FromDatabase, Word: "HIGH", DatabaseWord: "HIGH"}},
		{"GHSA-pxg6-pf52-xh8x.json", Result{Rating: Low, Source: FromDatabase, Word: "LOW", DatabaseWord: "LOW"}},
		// v3.1 and v4.0 vectors: v3.1 is preferred (GitHub rates it MODERATE).
		{"GHSA-qw6h-vgh9-j6wx.json", Result{Rating: Medium, Source: FromCVSS,
			CVSS: &CVSS{"3.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:L", 5.0}, DatabaseWord: "MODERATE"}},
		// Ubuntu CVE record: CVSS wins, the Ubuntu priority is kept as given.
		{"UBUNTU-CVE-2021-44228.json", Result{Rating: Critical, Source: FromCVSS, DistroPriority: "high", DistroSource: FromUbuntu, CVSS: log4shell}},
		// USN and Go records carry no severity at all.
		{"USN-5192-1.json", Result{}},
		{"GO-2022-1059.json", Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			v := loadRecord(t, tt.file)
			got := FromRecord(v, &v.Affected[0])
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FromRecord (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAgreesWithGitHub checks every GitHub advisory in testdata: the rating
// computed from its vectors equals GitHub's own database_specific.severity.
func TestAgreesWithGitHub(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "GHSA-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var withVector int
	for _, f := range files {
		v := loadRecord(t, filepath.Base(f))
		gh, ok := ParseWord(stringField(v.DatabaseSpecific, "severity"))
		if !ok {
			t.Errorf("%s: no GitHub severity", f)
			continue
		}
		got := FromRecord(v, nil)
		if len(got.Errors) > 0 {
			t.Errorf("%s: %v", f, got.Errors)
		}
		if got.Source == FromCVSS {
			withVector++
		}
		if got.Rating != gh {
			t.Errorf("%s: rating %v from %s %+v, GitHub says %v", f, got.Rating, got.Source, got.CVSS, gh)
		}
	}
	if len(files) < 30 || withVector < 25 {
		t.Errorf("checked %d files, %d with vectors; want the whole testdata set", len(files), withVector)
	}
	t.Logf("%d GitHub advisories agree, %d rated from a CVSS vector", len(files), withVector)
}

// TestFromRecordDistroWords uses records written for this test (not real
// advisories) to cover the word sources real testdata lacks.
func TestFromRecordDistroWords(t *testing.T) {
	tests := []struct {
		name string
		v    osv.Vulnerability
		a    *osv.Affected
		want Result
	}{
		{"ubuntu severity type", osv.Vulnerability{Severity: []osv.Severity{{Type: "Ubuntu", Score: "negligible"}}}, nil,
			Result{Rating: Low, Source: FromUbuntu, Word: "negligible", DistroPriority: "negligible", DistroSource: FromUbuntu}},
		{"ubuntu priority", osv.Vulnerability{}, &osv.Affected{EcosystemSpecific: map[string]any{"ubuntu_priority": "critical"}},
			Result{Rating: Critical, Source: FromUbuntu, Word: "critical", DistroPriority: "critical", DistroSource: FromUbuntu}},
		{"debian urgency beats github word", osv.Vulnerability{DatabaseSpecific: map[string]any{"severity": "HIGH"}},
			&osv.Affected{EcosystemSpecific: map[string]any{"urgency": "unimportant"}},
			Result{Rating: Low, Source: FromDebian, Word: "unimportant", DistroPriority: "unimportant", DistroSource: FromDebian, DatabaseWord: "HIGH"}},
		{"debian unassigned falls to github word", osv.Vulnerability{DatabaseSpecific: map[string]any{"severity": "MODERATE"}},
			&osv.Affected{EcosystemSpecific: map[string]any{"urgency": "not yet assigned"}},
			Result{Rating: Medium, Source: FromDatabase, Word: "MODERATE", DistroPriority: "not yet assigned", DistroSource: FromDebian, DatabaseWord: "MODERATE"}},
		{"affected vector beats record vector", osv.Vulnerability{Severity: []osv.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}}},
			&osv.Affected{Severity: []osv.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"}}},
			Result{Rating: Low, Source: FromCVSS, CVSS: &CVSS{"3.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1}}},
		{"bad vector recorded, good one used", osv.Vulnerability{Severity: []osv.Severity{
			{Type: "CVSS_V3", Score: "CVSS:3.1/AV:Q"},
			{Type: "CVSS_V2", Score: "AV:N/AC:L/Au:N/C:N/I:N/A:C"}}}, nil,
			Result{Rating: High, Source: FromCVSS, CVSS: &CVSS{"2.0", "AV:N/AC:L/Au:N/C:N/I:N/A:C", 7.8},
				Errors: []string{`cvss 3.1 vector "CVSS:3.1/AV:Q": invalid metric value`}}},
		{"nothing", osv.Vulnerability{}, nil, Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromRecord(&tt.v, tt.a)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FromRecord (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseCVSS checks that no vector string panics the parser and that
// every accepted vector has a score in range.
func FuzzParseCVSS(f *testing.F) {
	for _, s := range []string{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
		"(AV:N/AC:L/Au:N/C:N/I:N/A:C)",
		"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCVSS(s)
		if err != nil {
			return
		}
		if c.Score < 0 || c.Score > 10 || c.Rating() == Unknown {
			t.Errorf("ParseCVSS(%q) = %+v", s, c)
		}
	})
}
