package vulndb

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Threat is the exploitation data known for one CVE.
type Threat struct {
	CVE string
	// HasEPSS is set when the EPSS file scored this CVE.
	HasEPSS bool
	// EPSS is the probability of exploitation activity in the next 30 days.
	EPSS float64
	// Percentile ranks EPSS among all scored CVEs, 0..1.
	Percentile float64
	// ScoreDate and ModelVersion come from the EPSS file header.
	ScoreDate    time.Time
	ModelVersion string
	// InKEV is set when CISA lists the CVE as known exploited.
	InKEV        bool
	KEVDateAdded time.Time
	KEVDueDate   time.Time
	// KnownRansomware is set when the catalog says "Known" for ransomware use.
	KnownRansomware bool
}

// threatRow is the fixed 25-byte value of the threat table.
const threatRowSize = 1 + 8 + 8 + 4 + 4

const (
	flagEPSS byte = 1 << iota
	flagKEV
	flagRansomware
)

type threatRow struct {
	flags        byte
	epss, pct    float64
	added, dueBy int32 // days since the Unix epoch
}

func (r threatRow) marshal() []byte {
	b := make([]byte, 0, threatRowSize)
	b = append(b, r.flags)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.epss))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.pct))
	b = binary.LittleEndian.AppendUint32(b, uint32(r.added))
	b = binary.LittleEndian.AppendUint32(b, uint32(r.dueBy))
	return b
}

func toDays(t time.Time) int32 {
	if t.IsZero() {
		return math.MinInt32
	}
	return int32(t.Unix() / 86400)
}

func fromDays(d int32) time.Time {
	if d == math.MinInt32 {
		return time.Time{}
	}
	return time.Unix(int64(d)*86400, 0).UTC()
}

// Threat returns EPSS and KEV data for a CVE id. For another id (GHSA-,
// GO-, DSA-…) it looks at the CVEs among its aliases; failing those, at the
// CVE its id embeds (UBUNTU-CVE-…) and its upstream/related CVEs, since
// distribution advisories name the CVEs they fix that way. When several
// CVEs have data the worst wins (in KEV first, then highest EPSS);
// Threat.CVE says which one answered.
func (db *DB) Threat(ctx context.Context, id string) (Threat, bool) {
	if ctx.Err() != nil || db.closed.Load() {
		return Threat{}, false
	}
	if t, ok := db.threatFor(id); ok || strings.HasPrefix(id, "CVE-") {
		return t, ok
	}
	if t, ok := db.worstThreat(db.Aliases(id)); ok {
		return t, true
	}
	var weak []string
	if i := strings.Index(id, "-CVE-"); i >= 0 {
		weak = append(weak, id[i+1:])
	}
	return db.worstThreat(append(weak, db.Related(id)...))
}

func (db *DB) worstThreat(ids []string) (Threat, bool) {
	var best Threat
	found := false
	for _, a := range ids {
		if !strings.HasPrefix(a, "CVE-") {
			continue
		}
		t, ok := db.threatFor(a)
		if !ok {
			continue
		}
		if !found || (t.InKEV && !best.InKEV) || (t.InKEV == best.InKEV && t.EPSS > best.EPSS) {
			best, found = t, true
		}
	}
	return best, found
}

func (db *DB) threatFor(cve string) (Threat, bool) {
	i, ok := db.threat.find(cve)
	if !ok {
		return Threat{}, false
	}
	b := db.threat.val(i)
	if len(b) != threatRowSize {
		return Threat{}, false
	}
	t := Threat{
		CVE:             strings.Clone(cve),
		HasEPSS:         b[0]&flagEPSS != 0,
		InKEV:           b[0]&flagKEV != 0,
		KnownRansomware: b[0]&flagRansomware != 0,
	}
	if t.HasEPSS {
		t.EPSS = math.Float64frombits(binary.LittleEndian.Uint64(b[1:]))
		t.Percentile = math.Float64frombits(binary.LittleEndian.Uint64(b[9:]))
		if db.meta.EPSS != nil {
			t.ScoreDate, t.ModelVersion = db.meta.EPSS.ScoreDate, db.meta.EPSS.ModelVersion
		}
	}
	if t.InKEV {
		t.KEVDateAdded = fromDays(int32(binary.LittleEndian.Uint32(b[17:])))
		t.KEVDueDate = fromDays(int32(binary.LittleEndian.Uint32(b[21:])))
	}
	return t, true
}

// validCVE accepts ids shaped like CVE-YYYY-NNNN…, the only join key.
func validCVE(s string) bool {
	if len(s) < 13 || len(s) > 32 || !strings.HasPrefix(s, "CVE-") || s[8] != '-' {
		return false
	}
	for i := 4; i < len(s); i++ {
		if i != 8 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// parseEPSS reads a FIRST EPSS CSV (already decompressed): an optional
// "#model_version:…,score_date:…" line, a "cve,epss,percentile" header,
// then one row per CVE. Bad rows are counted and skipped.
func parseEPSS(ctx context.Context, r io.Reader, rows map[string]*threatRow, info *EPSSInfo) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(1); err == nil && b[0] == '#' {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if len(line) > 4096 {
			return errors.New("EPSS comment line too long")
		}
		for _, kv := range strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "#")), ",") {
			k, v, _ := strings.Cut(kv, ":")
			switch strings.TrimSpace(k) {
			case "model_version":
				info.ModelVersion = strings.TrimSpace(v)
			case "score_date":
				if t, err := time.Parse(time.RFC3339, strings.TrimSpace(v)); err == nil {
					info.ScoreDate = t.UTC()
				}
			}
		}
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("EPSS header: %w", err)
	}
	if len(head) < 3 || head[0] != "cve" || head[1] != "epss" || head[2] != "percentile" {
		return fmt.Errorf("EPSS header is %q, want cve,epss,percentile", strings.Join(head, ","))
	}
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				info.Bad++
				continue
			}
			return err
		}
		if len(rec) < 3 || !validCVE(rec[0]) {
			info.Bad++
			continue
		}
		p, err1 := strconv.ParseFloat(rec[1], 64)
		pct, err2 := strconv.ParseFloat(rec[2], 64)
		if err1 != nil || err2 != nil || !(p >= 0 && p <= 1) || !(pct >= 0 && pct <= 1) {
			info.Bad++
			continue
		}
		row := rows[rec[0]]
		if row == nil {
			row = &threatRow{added: math.MinInt32, dueBy: math.MinInt32}
			rows[strings.Clone(rec[0])] = row
		}
		row.flags |= flagEPSS
		row.epss, row.pct = p, pct
		info.Rows++
	}
}

type kevCatalog struct {
	CatalogVersion  string `json:"catalogVersion"`
	DateReleased    string `json:"dateReleased"`
	Vulnerabilities []struct {
		CVE        string `json:"cveID"`
		DateAdded  string `json:"dateAdded"`
		DueDate    string `json:"dueDate"`
		Ransomware string `json:"knownRansomwareCampaignUse"`
	} `json:"vulnerabilities"`
}

// parseKEV reads the CISA KEV JSON catalog (size-capped by the caller).
func parseKEV(r io.Reader, rows map[string]*threatRow, info *KEVInfo) error {
	var cat kevCatalog
	if err := json.NewDecoder(r).Decode(&cat); err != nil {
		return fmt.Errorf("KEV catalog: %w", err)
	}
	if len(cat.Vulnerabilities) == 0 {
		return errors.New("KEV catalog lists no vulnerabilities")
	}
	info.CatalogVersion = cat.CatalogVersion
	if t, err := time.Parse(time.RFC3339Nano, cat.DateReleased); err == nil {
		info.DateReleased = t.UTC()
	}
	day := func(s string) int32 {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return math.MinInt32
		}
		return toDays(t)
	}
	for _, v := range cat.Vulnerabilities {
		if !validCVE(v.CVE) {
			continue
		}
		row := rows[v.CVE]
		if row == nil {
			row = &threatRow{added: math.MinInt32, dueBy: math.MinInt32}
			rows[v.CVE] = row
		}
		row.flags |= flagKEV
		if strings.EqualFold(v.Ransomware, "Known") {
			row.flags |= flagRansomware
		}
		row.added, row.dueBy = day(v.DateAdded), day(v.DueDate)
		info.Count++
	}
	return nil
}
