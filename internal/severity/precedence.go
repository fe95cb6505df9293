package severity

import "strings"

// Origin names where a finding's severity or CVSS vector came from; it is
// what a finding reports as severity_source and cvss.source.
type Origin string

// The origins, grouped by precedence tier (see Choose).
const (
	// OriginDebian: the Debian security tracker's urgency.
	OriginDebian Origin = "debian"
	// OriginUbuntu: Ubuntu's priority, or a CVSS vector of an Ubuntu record.
	OriginUbuntu Origin = "ubuntu"
	// OriginGHSA: a GitHub advisory's CVSS vector or severity word.
	OriginGHSA Origin = "ghsa"
	// OriginOSV: the CVSS vector or severity word of any other advisory
	// (Go, PyPA, RustSec, Alpine, Red Hat… records in OSV).
	OriginOSV Origin = "osv"
	// OriginNVD: NVD's own (Primary) CVSS score.
	OriginNVD Origin = "nvd"
	// OriginCNA: the CVSS score of the CNA that assigned the CVE.
	OriginCNA Origin = "cna"
	// OriginCISAADP: CISA's ADP (vulnrichment) CVSS score.
	OriginCISAADP Origin = "cisa-adp"
)

// AdvisoryOrigin is the origin of an advisory's own severity data, by the
// advisory's id: GHSA-… is ghsa; USN-… and UBUNTU-… ubuntu; DSA-, DLA-,
// DTSA- and DEBIAN-… debian; anything else osv.
func AdvisoryOrigin(id string) Origin {
	switch {
	case strings.HasPrefix(id, "GHSA-"):
		return OriginGHSA
	case strings.HasPrefix(id, "USN-"), strings.HasPrefix(id, "UBUNTU-"):
		return OriginUbuntu
	case strings.HasPrefix(id, "DSA-"), strings.HasPrefix(id, "DLA-"), strings.HasPrefix(id, "DTSA-"), strings.HasPrefix(id, "DEBIAN-"):
		return OriginDebian
	}
	return OriginOSV
}

// Candidate is one piece of severity data a finding may be rated by: a
// CVSS vector or a rating word, and where it came from.
type Candidate struct {
	// Origin says where it came from.
	Origin Origin
	// Rating is the word's rating, or the vector's (CVSS.Rating()).
	Rating Rating
	// CVSS is the vector; nil for a word.
	CVSS *CVSS
	// Word is the rating word as given, for a word.
	Word string
	// Ref is the advisory or CVE id it came from.
	Ref string
}

// Class is a kind of package with its own precedence.
type Class int

// The classes of Precedence.
const (
	// Language packages (npm, PyPI, Go, Maven…): upstream advisories.
	Language Class = iota
	// OSPackage: packages of a distribution (deb, apk, rpm), whose own
	// rating reflects how the distribution builds and ships it.
	OSPackage
)

// Tier is one step of a precedence.
type Tier int

// The tiers, each a kind of candidate.
const (
	// TierDistro: the distribution's priority word (Debian urgency,
	// Ubuntu priority).
	TierDistro Tier = iota
	// TierAdvisoryCVSS: a CVSS vector of a matched advisory.
	TierAdvisoryCVSS
	// TierAdvisoryWord: a matched advisory's severity word
	// (database_specific.severity: GitHub's LOW/MODERATE/HIGH/CRITICAL).
	TierAdvisoryWord
	// TierNVD: NVD's Primary CVSS score.
	TierNVD
	// TierCNA: the CNA's CVSS score.
	TierCNA
	// TierCISAADP: CISA ADP's CVSS score.
	TierCISAADP
)

var tierNames = [...]string{"distro", "advisory-cvss", "advisory-word", "nvd", "cna", "cisa-adp"}

// String names the tier as docs/vulndb.md does.
func (t Tier) String() string {
	if int(t) < len(tierNames) {
		return tierNames[t]
	}
	return "unknown"
}

// Precedence is the order in which tiers rate a finding of class c, first
// first. A distribution rates its own packages: its priority comes before
// any CVSS score, which rates the upstream flaw. Then the matched
// advisories' own data, then NVD's analysis, then the CNA's score, then
// CISA ADP's (which scores a CVE only when nobody else did).
func Precedence(c Class) []Tier {
	if c == OSPackage {
		return []Tier{TierDistro, TierAdvisoryCVSS, TierAdvisoryWord, TierNVD, TierCNA, TierCISAADP}
	}
	return []Tier{TierAdvisoryCVSS, TierAdvisoryWord, TierNVD, TierCNA, TierCISAADP}
}

// tierOf places a candidate in its tier.
func tierOf(c Candidate) Tier {
	switch c.Origin {
	case OriginNVD:
		return TierNVD
	case OriginCNA:
		return TierCNA
	case OriginCISAADP:
		return TierCISAADP
	}
	if c.CVSS != nil {
		return TierAdvisoryCVSS
	}
	if c.Origin == OriginDebian || c.Origin == OriginUbuntu {
		return TierDistro
	}
	return TierAdvisoryWord
}

// Choice is the outcome of Choose.
type Choice struct {
	// Rating is the finding's rating; Unknown only when no candidate had one.
	Rating Rating
	// Source is the origin of Rating; empty with Unknown.
	Source Origin
	// Tier is the tier Rating came from.
	Tier Tier
	// Word is the rating word when Rating came from one.
	Word string
	// CVSS is the vector the finding shows: the best of the first tier (in
	// the same precedence) that has a vector, so an OS finding rated by its
	// distribution's word still carries the CVSS vector that comes next.
	// CVSSSource is its origin.
	CVSS       *CVSS
	CVSSSource Origin
}

// Choose rates a finding of class c from its candidates: the first tier of
// Precedence(c) that has a usable candidate decides. Within a tier a CVSS
// vector is chosen by Better (v3.1, v3.0, v4.0, v2.0, then the higher
// score) and words by the higher rating. Candidates with an Unknown rating
// and tiers not in the precedence are ignored.
func Choose(c Class, cands []Candidate) Choice {
	var ch Choice
	order := Precedence(c)
	for i, t := range order {
		best := bestOf(cands, t)
		if best == nil {
			continue
		}
		ch.Rating, ch.Source, ch.Tier = best.Rating, best.Origin, t
		if best.CVSS == nil {
			ch.Word = best.Word
		}
		// The vector shown: this tier's, else the next tier's that has one.
		for _, later := range order[i:] {
			if v := bestOf(cands, later); v != nil && v.CVSS != nil {
				cv := *v.CVSS
				ch.CVSS, ch.CVSSSource = &cv, v.Origin
				break
			}
		}
		break
	}
	return ch
}

// bestOf is the preferred usable candidate of tier t, or nil.
func bestOf(cands []Candidate, t Tier) *Candidate {
	var best *Candidate
	for i := range cands {
		c := &cands[i]
		if c.Rating == Unknown || tierOf(*c) != t {
			continue
		}
		switch {
		case best == nil:
			best = c
		case c.CVSS != nil && best.CVSS != nil:
			if Better(*c.CVSS, *best.CVSS) {
				best = c
			}
		case c.CVSS == nil && best.CVSS == nil:
			if c.Rating > best.Rating {
				best = c
			}
		}
	}
	return best
}

// AdvisoryCandidates turns the severity data of one matched advisory (its
// FromRecord result) into candidates: its distribution priority word, its
// preferred CVSS vector and its database_specific.severity word, each with
// the advisory's origin (AdvisoryOrigin) and id.
func AdvisoryCandidates(id string, r Result) []Candidate {
	var out []Candidate
	if r.DistroPriority != "" {
		if rt, ok := ParseWord(r.DistroPriority); ok {
			o := OriginDebian
			if r.DistroSource == FromUbuntu {
				o = OriginUbuntu
			}
			out = append(out, Candidate{Origin: o, Rating: rt, Word: r.DistroPriority, Ref: id})
		}
	}
	if r.CVSS != nil {
		v := *r.CVSS
		out = append(out, Candidate{Origin: AdvisoryOrigin(id), Rating: v.Rating(), CVSS: &v, Ref: id})
	}
	if rt, ok := ParseWord(r.DatabaseWord); ok {
		out = append(out, Candidate{Origin: AdvisoryOrigin(id), Rating: rt, Word: r.DatabaseWord, Ref: id})
	}
	return out
}
