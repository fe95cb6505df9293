package vulndb

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/severity"
)

// cisaADPOrg is the CVE Program organisation id of CISA's ADP, which NVD
// names as the source of the vulnrichment scores it copies.
const cisaADPOrg = "134c704f-9b21-4f2e-91b3-4a467353bcc0"

// nvdCVE is the part of an NVD CVE API 2.0 "cve" object runlens keeps.
type nvdCVE struct {
	ID               string `json:"id"`
	SourceIdentifier string `json:"sourceIdentifier"`
	Published        string `json:"published"`
	LastModified     string `json:"lastModified"`
	VulnStatus       string `json:"vulnStatus"`
	Metrics          struct {
		V40  []nvdCVSS `json:"cvssMetricV40"`
		V31  []nvdCVSS `json:"cvssMetricV31"`
		V30  []nvdCVSS `json:"cvssMetricV30"`
		V2   []nvdCVSS `json:"cvssMetricV2"`
		SSVC []struct {
			Data ssvcContent `json:"ssvcData"`
		} `json:"ssvcV203"`
	} `json:"metrics"`
	Weaknesses []struct {
		Description []struct {
			Value string `json:"value"`
		} `json:"description"`
	} `json:"weaknesses"`
	References []struct {
		Tags []string `json:"tags"`
	} `json:"references"`
	CISAExploitAdd string `json:"cisaExploitAdd"`
}

type nvdCVSS struct {
	Source string `json:"source"`
	Type   string `json:"type"`
	Data   struct {
		VectorString string `json:"vectorString"`
	} `json:"cvssData"`
}

// ssvcContent is an SSVC decision: CISA ADP's metrics[].other.content or
// NVD's ssvcV203[].ssvcData. Options are one-key objects; CVE 5 spells the
// keys "Exploitation", "Automatable", "Technical Impact", NVD
// "exploitation", "automatable", "technicalImpact".
type ssvcContent struct {
	Options   []map[string]string `json:"options"`
	Timestamp string              `json:"timestamp"`
}

// cve5Metadata and cve5Containers are the parts of a CVE JSON 5 record
// runlens keeps.
type cve5Metadata struct {
	CVEID         string `json:"cveId"`
	State         string `json:"state"`
	DatePublished string `json:"datePublished"`
	DateUpdated   string `json:"dateUpdated"`
}

type cve5Containers struct {
	CNA cve5Container   `json:"cna"`
	ADP []cve5Container `json:"adp"`
}

type cve5Container struct {
	ProviderMetadata struct {
		OrgID     string `json:"orgId"`
		ShortName string `json:"shortName"`
	} `json:"providerMetadata"`
	Metrics []struct {
		V40   *cve5CVSS `json:"cvssV4_0"`
		V31   *cve5CVSS `json:"cvssV3_1"`
		V30   *cve5CVSS `json:"cvssV3_0"`
		V2    *cve5CVSS `json:"cvssV2_0"`
		Other *struct {
			Type    string          `json:"type"`
			Content json.RawMessage `json:"content"`
		} `json:"other"`
	} `json:"metrics"`
	ProblemTypes []struct {
		Descriptions []struct {
			CWEID string `json:"cweId"`
		} `json:"descriptions"`
	} `json:"problemTypes"`
}

type cve5CVSS struct {
	VectorString string `json:"vectorString"`
}

// anyRecord decodes any of the record shapes a metrics source holds in
// one pass: an NVD cve object, an NVD API/feed element {"cve": {…}}, or a
// CVE 5 record.
type anyRecord struct {
	nvdCVE
	CVE         *nvdCVE         `json:"cve"`
	DataType    string          `json:"dataType"`
	CVEMetadata *cve5Metadata   `json:"cveMetadata"`
	Containers  *cve5Containers `json:"containers"`
}

// metricRec is one decoded record on its way to the builder.
type metricRec struct {
	cve     string
	kind    byte // partNVD or partCVE5
	part    *metricPart
	carried bool // copied from the previous database, not read from a source
}

// errNotMetrics is a JSON document that is neither an NVD nor a CVE 5
// record (e.g. a CVE List delta.json): skipped and counted.
type errNotMetrics struct{ why string }

func (e errNotMetrics) Error() string { return e.why }

// parseMetricRecord decodes one record. A malformed document is an error
// (the import fails); a well-formed one that is not a CVE record is an
// errNotMetrics.
func parseMetricRecord(data []byte) (metricRec, error) {
	var a anyRecord
	if err := json.Unmarshal(data, &a); err != nil {
		return metricRec{}, fmt.Errorf("invalid JSON: %w", err)
	}
	switch {
	case a.CVE != nil:
		return nvdRecord(a.CVE)
	case a.CVEMetadata != nil:
		var c cve5Containers
		if a.Containers != nil {
			c = *a.Containers
		}
		return cve5Part(a.CVEMetadata, &c)
	case a.ID != "" && (a.SourceIdentifier != "" || a.VulnStatus != "" || a.LastModified != ""):
		return nvdRecord(&a.nvdCVE)
	}
	return metricRec{}, errNotMetrics{"neither an NVD CVE record nor a CVE 5 record"}
}

func nvdRecord(c *nvdCVE) (metricRec, error) {
	if !validCVE(c.ID) {
		return metricRec{}, errNotMetrics{fmt.Sprintf("NVD record with id %q", clip(c.ID))}
	}
	p := &metricPart{published: parseLooseTime(c.Published), modified: parseLooseTime(c.LastModified)}
	if strings.EqualFold(c.VulnStatus, "Rejected") {
		return metricRec{cve: c.ID, kind: partNVD, part: p}, nil // replaces an older part, stores nothing
	}
	for _, list := range [][]nvdCVSS{c.Metrics.V40, c.Metrics.V31, c.Metrics.V30, c.Metrics.V2} {
		for _, m := range list {
			e, ok := scoredVector(m.Data.VectorString)
			if !ok {
				continue
			}
			e.primary, e.source = m.Type == "Primary", m.Source
			switch {
			case m.Source == "nvd@nist.gov":
				e.scorer = scorerNVD
			case m.Source == cisaADPOrg:
				e.scorer = scorerCISAADP
			case m.Source == c.SourceIdentifier:
				e.scorer = scorerCNA
			default:
				e.scorer = scorerOther
			}
			p.cvss = appendEntry(p.cvss, e)
		}
	}
	for _, w := range c.Weaknesses {
		for _, d := range w.Description {
			p.cwes = appendCWE(p.cwes, d.Value)
		}
	}
	for _, s := range c.Metrics.SSVC {
		p.ssvc = newerSSVC(p.ssvc, parseSSVC(s.Data))
	}
	for _, r := range c.References {
		if slices.Contains(r.Tags, "Exploit") {
			p.exploitRef = true
			break
		}
	}
	p.kev = c.CISAExploitAdd != ""
	return metricRec{cve: c.ID, kind: partNVD, part: p}, nil
}

func cve5Part(md *cve5Metadata, cs *cve5Containers) (metricRec, error) {
	id := md.CVEID
	if !validCVE(id) {
		return metricRec{}, errNotMetrics{fmt.Sprintf("CVE 5 record with id %q", clip(id))}
	}
	p := &metricPart{published: parseLooseTime(md.DatePublished), modified: parseLooseTime(md.DateUpdated)}
	if !strings.EqualFold(md.State, "PUBLISHED") {
		return metricRec{cve: id, kind: partCVE5, part: p}, nil
	}
	containers := append([]cve5Container{cs.CNA}, cs.ADP...)
	for i, c := range containers {
		scorer := scorerCNA
		if i > 0 {
			scorer = scorerOther
			if c.ProviderMetadata.ShortName == "CISA-ADP" || c.ProviderMetadata.OrgID == cisaADPOrg {
				scorer = scorerCISAADP
			}
		}
		source := c.ProviderMetadata.ShortName
		if source == "" {
			source = c.ProviderMetadata.OrgID
		}
		for _, m := range c.Metrics {
			for _, v := range []*cve5CVSS{m.V40, m.V31, m.V30, m.V2} {
				if v == nil {
					continue
				}
				if e, ok := scoredVector(v.VectorString); ok {
					e.scorer, e.source = scorer, source
					p.cvss = appendEntry(p.cvss, e)
				}
			}
			if m.Other == nil || scorer != scorerCISAADP {
				continue
			}
			switch m.Other.Type {
			case "ssvc":
				var s ssvcContent
				if json.Unmarshal(m.Other.Content, &s) == nil {
					p.ssvc = newerSSVC(p.ssvc, parseSSVC(s))
				}
			case "kev":
				p.kev = true
			}
		}
		for _, pt := range c.ProblemTypes {
			for _, d := range pt.Descriptions {
				p.cwes = appendCWE(p.cwes, d.CWEID)
			}
		}
	}
	return metricRec{cve: id, kind: partCVE5, part: p}, nil
}

// scoredVector parses and scores a vector, canonical (a v4.0 vector
// without its Not Defined metrics). Vectors that do not parse are dropped.
func scoredVector(v string) (cvssEntry, bool) {
	v = canonicalVector(v)
	if v == "" || len(v) > 256 {
		return cvssEntry{}, false
	}
	c, err := severity.ParseCVSS(v)
	if err != nil {
		return cvssEntry{}, false
	}
	return cvssEntry{vector: c.Vector, score: c.Score}, true
}

// canonicalVector trims a vector and drops the "X" (Not Defined) metrics
// NVD spells out in every CVSS v4.0 vector: they do not change any score.
func canonicalVector(v string) string {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "CVSS:4.0/") {
		return v
	}
	parts := strings.Split(v, "/")
	out := parts[:1]
	for _, p := range parts[1:] {
		if !strings.HasSuffix(p, ":X") {
			out = append(out, p)
		}
	}
	return strings.Join(out, "/")
}

func appendEntry(list []cvssEntry, e cvssEntry) []cvssEntry {
	for _, o := range list {
		if o.vector == e.vector && o.scorer == e.scorer {
			return list
		}
	}
	return append(list, e)
}

func appendCWE(list []string, w string) []string {
	w = strings.TrimSpace(w)
	if _, ok := cweCode(w); !ok || slices.Contains(list, w) {
		return list
	}
	return append(list, w)
}

func parseSSVC(s ssvcContent) *ssvcEntry {
	e := &ssvcEntry{timestamp: parseLooseTime(s.Timestamp)}
	for _, o := range s.Options {
		for k, v := range o {
			switch strings.ToLower(strings.ReplaceAll(k, " ", "")) {
			case "exploitation":
				e.exploitation = ssvcCode(ssvcExploitation, v)
			case "automatable":
				e.automatable = ssvcCode(ssvcAutomatable, v)
			case "technicalimpact":
				e.technical = ssvcCode(ssvcTechnical, v)
			}
		}
	}
	if e.exploitation == 0 && e.automatable == 0 && e.technical == 0 {
		return nil
	}
	return e
}

func newerSSVC(a, b *ssvcEntry) *ssvcEntry {
	if a == nil || (b != nil && b.timestamp > a.timestamp) {
		return b
	}
	return a
}

// parseLooseTime reads the timestamps of NVD ("2022-05-03T16:15:18.823",
// no zone: UTC) and CVE 5 ("2021-12-10T00:00:00.000Z") records, as Unix
// seconds; 0 when it does not parse.
func parseLooseTime(s string) int64 {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return max(t.Unix(), 0)
		}
	}
	return 0
}

func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return url.PathEscape(s)
}
