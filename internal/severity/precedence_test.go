package severity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func vec(t *testing.T, v string) *CVSS {
	t.Helper()
	c, err := ParseCVSS(v)
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestChoosePrecedence is the precedence table of docs/vulndb.md, one row
// per rule: which candidate rates a finding, and which vector it shows.
func TestChoosePrecedence(t *testing.T) {
	v31crit := vec(t, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")  // 9.8
	v31local := vec(t, "CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H") // 7.3
	v31med := vec(t, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L")   // 5.3
	v40low := vec(t, "CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:P/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N")
	v2high := vec(t, "AV:N/AC:L/Au:N/C:C/I:C/A:C") // 10.0, HIGH on v2's scale
	cvssC := func(o Origin, v *CVSS) Candidate { return Candidate{Origin: o, Rating: v.Rating(), CVSS: v} }
	word := func(o Origin, w string) Candidate {
		r, _ := ParseWord(w)
		return Candidate{Origin: o, Rating: r, Word: w}
	}

	debianLow := word(OriginDebian, "low")
	ghsaCrit := cvssC(OriginGHSA, v31crit)
	ghsaWord := word(OriginGHSA, "MODERATE")
	nvdLocal := cvssC(OriginNVD, v31local)
	nvdV2 := cvssC(OriginNVD, v2high)
	nvdV40 := cvssC(OriginNVD, v40low)
	cnaMed := cvssC(OriginCNA, v31med)
	adpCrit := cvssC(OriginCISAADP, v31crit)

	tests := []struct {
		name       string
		class      Class
		cands      []Candidate
		rating     Rating
		source     Origin
		vector     *CVSS
		vectorFrom Origin
	}{
		{"nothing at all: UNKNOWN", OSPackage, nil, Unknown, "", nil, ""},
		{"OS: the distribution's word first, the next vector shown", OSPackage,
			[]Candidate{adpCrit, nvdLocal, debianLow}, Low, OriginDebian, v31local, OriginNVD},
		{"OS: no distribution word, the advisory's CVSS", OSPackage,
			[]Candidate{nvdLocal, ghsaCrit}, Critical, OriginGHSA, v31crit, OriginGHSA},
		{"OS: no advisory data, NVD's Primary", OSPackage,
			[]Candidate{adpCrit, cnaMed, nvdLocal}, High, OriginNVD, v31local, OriginNVD},
		{"language: a distribution word is not its rating", Language,
			[]Candidate{debianLow, nvdLocal}, High, OriginNVD, v31local, OriginNVD},
		{"language: advisory CVSS before NVD", Language,
			[]Candidate{nvdLocal, ghsaCrit}, Critical, OriginGHSA, v31crit, OriginGHSA},
		{"advisory CVSS before the advisory's word", Language,
			[]Candidate{ghsaWord, ghsaCrit}, Critical, OriginGHSA, v31crit, OriginGHSA},
		{"advisory word before NVD, NVD's vector shown", Language,
			[]Candidate{nvdLocal, ghsaWord}, Medium, OriginGHSA, v31local, OriginNVD},
		{"NVD before the CNA", Language,
			[]Candidate{cnaMed, nvdLocal}, High, OriginNVD, v31local, OriginNVD},
		{"the CNA before CISA ADP", Language,
			[]Candidate{adpCrit, cnaMed}, Medium, OriginCNA, v31med, OriginCNA},
		{"CISA ADP when nobody else scored it", Language,
			[]Candidate{adpCrit}, Critical, OriginCISAADP, v31crit, OriginCISAADP},
		{"within a tier v3.1 before v4.0 and v2.0", Language,
			[]Candidate{nvdV2, nvdV40, nvdLocal}, High, OriginNVD, v31local, OriginNVD},
		{"within a tier v4.0 before v2.0", Language,
			[]Candidate{nvdV2, nvdV40}, nvdV40.Rating, OriginNVD, v40low, OriginNVD},
		{"v2.0 alone, on its own scale", Language,
			[]Candidate{nvdV2}, High, OriginNVD, v2high, OriginNVD},
		{"same version: the higher score", Language,
			[]Candidate{cvssC(OriginOSV, v31med), cvssC(OriginGHSA, v31crit)}, Critical, OriginGHSA, v31crit, OriginGHSA},
		{"an unrated word is skipped", OSPackage,
			[]Candidate{{Origin: OriginDebian, Word: "not yet assigned"}, cnaMed}, Medium, OriginCNA, v31med, OriginCNA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := Choose(tt.class, tt.cands)
			if ch.Rating != tt.rating || ch.Source != tt.source {
				t.Errorf("rated %v from %q, want %v from %q", ch.Rating, ch.Source, tt.rating, tt.source)
			}
			if diff := cmp.Diff(tt.vector, ch.CVSS); diff != "" || ch.CVSSSource != tt.vectorFrom {
				t.Errorf("vector from %q, want from %q (-want +got):\n%s", ch.CVSSSource, tt.vectorFrom, diff)
			}
		})
	}
}

// TestPrecedenceOrder pins the documented order of the tiers.
func TestPrecedenceOrder(t *testing.T) {
	var os, lang []string
	for _, tr := range Precedence(OSPackage) {
		os = append(os, tr.String())
	}
	for _, tr := range Precedence(Language) {
		lang = append(lang, tr.String())
	}
	if diff := cmp.Diff([]string{"distro", "advisory-cvss", "advisory-word", "nvd", "cna", "cisa-adp"}, os); diff != "" {
		t.Errorf("OS precedence (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"advisory-cvss", "advisory-word", "nvd", "cna", "cisa-adp"}, lang); diff != "" {
		t.Errorf("language precedence (-want +got):\n%s", diff)
	}
}

// TestAdvisoryCandidates turns FromRecord results of real records into
// candidates with the advisory's origin.
func TestAdvisoryCandidates(t *testing.T) {
	for _, tt := range []struct {
		file string
		want []Origin
	}{
		{"GHSA-jfh8-c2jp-5v3q.json", []Origin{OriginGHSA, OriginGHSA}},       // vector and GitHub's word
		{"UBUNTU-CVE-2021-44228.json", []Origin{OriginUbuntu, OriginUbuntu}}, // priority and vector
		{"GO-2022-1059.json", nil},                                           // nothing
		{"GHSA-8hc4-vh64-cxmj.json", []Origin{OriginGHSA}},                   // word only
	} {
		v := loadRecord(t, tt.file)
		var got []Origin
		for _, c := range AdvisoryCandidates(v.ID, FromRecord(v, &v.Affected[0])) {
			got = append(got, c.Origin)
			if c.Ref != v.ID || c.Rating == Unknown {
				t.Errorf("%s: candidate %+v", tt.file, c)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
	}
	for id, want := range map[string]Origin{"GHSA-x": OriginGHSA, "USN-1-1": OriginUbuntu, "DLA-3008-1": OriginDebian, "DEBIAN-CVE-2022-1292": OriginDebian, "GO-2021-0113": OriginOSV, "PYSEC-1": OriginOSV} {
		if got := AdvisoryOrigin(id); got != want {
			t.Errorf("AdvisoryOrigin(%s) = %s, want %s", id, got, want)
		}
	}
}
