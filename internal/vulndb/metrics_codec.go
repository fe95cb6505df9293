package vulndb

import (
	"strconv"
	"strings"
)

// CVE metric rows. The metrics table maps a CVE id to what the NVD record
// and the CVE 5 record of that CVE say about it, each as its own part so
// that an incremental NVD update can carry the NVD part of the previous
// database over and replace it record by record:
//
//	value   byte parts (partNVD | partCVE5), then each present part in that order
//	part    uvarint published, uvarint modified (Unix seconds, 0 unknown)
//	        byte flags (kev, exploit reference, ssvc)
//	        [ssvc: byte exploitation<<4 | automatable<<2 | technical impact, uvarint timestamp]
//	        uvarint n, n × (byte scorer<<1 | primary, uvarint source, uvarint vector)
//	        uvarint n, n × uvarint CWE code
//
// source and vector are indexes into the strings table, whose keys are the
// distinct vectors and scorer names in sorted order and whose values hold,
// for a vector, its base score ×10 in one byte. CWE codes are the CWE
// number + 2; 0 is "NVD-CWE-noinfo" and 1 is "NVD-CWE-Other".

const (
	partNVD  byte = 1 << 0
	partCVE5 byte = 1 << 1
)

const (
	pflagKEV        byte = 1 << 0
	pflagExploitRef byte = 1 << 1
	pflagSSVC       byte = 1 << 2
)

// Who scored a CVSS vector, as stored.
const (
	scorerNVD     uint8 = 0 // NVD's own analysis (nvd@nist.gov)
	scorerCNA     uint8 = 1 // the CNA that assigned the CVE
	scorerCISAADP uint8 = 2 // CISA's ADP container (vulnrichment)
	scorerOther   uint8 = 3 // any other source NVD lists as Secondary
)

var scorerNames = [...]string{"nvd", "cna", "cisa-adp", "other"}

// SSVC values as stored: 0 means not given.
var (
	ssvcExploitation = []string{"", "none", "poc", "active"}
	ssvcAutomatable  = []string{"", "no", "yes"}
	ssvcTechnical    = []string{"", "partial", "total"}
)

func ssvcCode(values []string, v string) uint8 {
	v = strings.ToLower(strings.TrimSpace(v))
	for i, w := range values {
		if i > 0 && w == v {
			return uint8(i)
		}
	}
	return 0
}

// cvssEntry is one scored vector of a part.
type cvssEntry struct {
	scorer  uint8
	primary bool
	source  string // who scored it, as the record names them
	vector  string // canonical (see canonicalVector)
	score   float64
}

// ssvcEntry is CISA's SSVC decision as a part carries it.
type ssvcEntry struct {
	exploitation, automatable, technical uint8
	timestamp                            int64 // Unix seconds
}

// metricPart is what one record (NVD or CVE 5) says about a CVE.
type metricPart struct {
	published, modified int64 // Unix seconds, 0 unknown
	kev, exploitRef     bool
	ssvc                *ssvcEntry
	cvss                []cvssEntry
	cwes                []string
}

// empty reports whether the part says nothing a finding could use (a
// rejected CVE, a record not yet analysed); it still replaces an older part.
func (p *metricPart) empty() bool {
	return p == nil || (len(p.cvss) == 0 && len(p.cwes) == 0 && p.ssvc == nil && !p.kev && !p.exploitRef)
}

// metricRow is one CVE's parts, decoded.
type metricRow struct {
	nvd, cve5 *metricPart
}

// cweCode turns "CWE-79" into 81, "NVD-CWE-noinfo" into 0 and
// "NVD-CWE-Other" into 1; anything else is not stored.
func cweCode(s string) (uint64, bool) {
	switch s {
	case "NVD-CWE-noinfo":
		return 0, true
	case "NVD-CWE-Other":
		return 1, true
	}
	n, ok := strings.CutPrefix(s, "CWE-")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(n, 10, 32)
	if err != nil {
		return 0, false
	}
	return v + 2, true
}

func cweName(code uint64) string {
	switch code {
	case 0:
		return "NVD-CWE-noinfo"
	case 1:
		return "NVD-CWE-Other"
	}
	return "CWE-" + strconv.FormatUint(code-2, 10)
}

// encodePart appends p, with strings given as indexes by idx.
func encodePart(e *encoder, p *metricPart, idx func(string) uint64) {
	e.uvarint(uint64(max(p.published, 0)))
	e.uvarint(uint64(max(p.modified, 0)))
	var flags byte
	if p.kev {
		flags |= pflagKEV
	}
	if p.exploitRef {
		flags |= pflagExploitRef
	}
	if p.ssvc != nil {
		flags |= pflagSSVC
	}
	e.b = append(e.b, flags)
	if p.ssvc != nil {
		e.b = append(e.b, p.ssvc.exploitation<<4|p.ssvc.automatable<<2|p.ssvc.technical)
		e.uvarint(uint64(max(p.ssvc.timestamp, 0)))
	}
	e.uvarint(uint64(len(p.cvss)))
	for _, c := range p.cvss {
		b := c.scorer << 1
		if c.primary {
			b |= 1
		}
		e.b = append(e.b, b)
		e.uvarint(idx(c.source))
		e.uvarint(idx(c.vector))
	}
	var codes []uint64
	for _, w := range p.cwes {
		if c, ok := cweCode(w); ok {
			codes = append(codes, c)
		}
	}
	e.uvarint(uint64(len(codes)))
	for _, c := range codes {
		e.uvarint(c)
	}
}

// decodePart reads one part; str resolves a strings-table index to the
// string and, for vectors, the stored score. It fails (d.err) on any index
// or value out of range.
func decodePart(d *decoder, str func(uint64) (string, float64, bool)) *metricPart {
	p := &metricPart{published: int64(d.uvarint()), modified: int64(d.uvarint())}
	flags := d.byte()
	p.kev, p.exploitRef = flags&pflagKEV != 0, flags&pflagExploitRef != 0
	if flags&pflagSSVC != 0 {
		b := d.byte()
		s := &ssvcEntry{exploitation: b >> 4 & 3, automatable: b >> 2 & 3, technical: b & 3, timestamp: int64(d.uvarint())}
		if int(s.automatable) >= len(ssvcAutomatable) || int(s.technical) >= len(ssvcTechnical) || b>>6 != 0 {
			d.fail()
		}
		p.ssvc = s
	}
	n := d.count()
	for range n {
		b := d.byte()
		src, _, ok1 := str(d.uvarint())
		vec, score, ok2 := str(d.uvarint())
		if !ok1 || !ok2 || b>>1 > scorerOther || d.err != nil {
			d.fail()
			return p
		}
		p.cvss = append(p.cvss, cvssEntry{scorer: b >> 1, primary: b&1 != 0, source: src, vector: vec, score: score})
	}
	n = d.count()
	for range n {
		c := d.uvarint()
		if c > 1<<32 {
			d.fail()
		}
		p.cwes = append(p.cwes, cweName(c))
	}
	return p
}

// decodeRow reads a metrics-table value.
func decodeRow(b string, str func(uint64) (string, float64, bool)) (metricRow, error) {
	d := decoder{s: b}
	var r metricRow
	mask := d.byte()
	if mask&^(partNVD|partCVE5) != 0 {
		d.fail()
	}
	if mask&partNVD != 0 {
		r.nvd = decodePart(&d, str)
	}
	if mask&partCVE5 != 0 && d.err == nil {
		r.cve5 = decodePart(&d, str)
	}
	if d.err == nil && d.i != len(d.s) {
		d.fail()
	}
	return r, d.err
}
