package scaletest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// MetricsOptions controls the CVE metrics part of the scale set.
type MetricsOptions struct {
	// NVDTemplates and CVE5Templates are directories of real NVD CVE API
	// 2.0 records and CVE JSON 5 records (recursive).
	NVDTemplates, CVE5Templates string
	// NVDRecords and CVE5Records are how many records of each to write;
	// the CVE 5 records cover the last CVE5Records/2 CVEs of the NVD ones
	// and as many CVEs without an NVD record, as the CVE List covers CVEs
	// NVD has not published yet.
	NVDRecords, CVE5Records int
}

// MetricsResult says what GenerateMetrics wrote.
type MetricsResult struct {
	NVDDir  string // <out>/nvd: yearly NVD feed files, gzipped
	CVE5Zip string // <out>/cve5.zip: CVE 5 records in the CVE List layout
	CVEs    int    // distinct CVE ids with records
	// Lookups is a sample of CVE ids with records, also written to
	// <out>/metrics_lookups.txt.
	Lookups []string
}

// GenerateMetrics writes synthetic NVD and CVE 5 records under out: each a
// real record (round robin over the templates) with its CVE id replaced
// by one of the scale set's CVE aliases, taken in order from
// <out>/epss.csv.gz (whose first rows are those aliases), so findings of
// the scale set join them. Ids beyond the EPSS file are numbered on.
func GenerateMetrics(ctx context.Context, out string, opt MetricsOptions) (MetricsResult, error) {
	nvd, err := templates(opt.NVDTemplates)
	if err != nil {
		return MetricsResult{}, err
	}
	cve5, err := templates(opt.CVE5Templates)
	if err != nil {
		return MetricsResult{}, err
	}
	onlyCVE5 := opt.CVE5Records / 2
	ids, err := epssCVEs(filepath.Join(out, "epss.csv.gz"), opt.NVDRecords+onlyCVE5)
	if err != nil {
		return MetricsResult{}, err
	}
	res := MetricsResult{NVDDir: filepath.Join(out, "nvd"), CVE5Zip: filepath.Join(out, "cve5.zip"), CVEs: len(ids)}
	if err := writeNVDFeeds(ctx, res.NVDDir, nvd, ids[:opt.NVDRecords]); err != nil {
		return MetricsResult{}, err
	}
	first := max(0, opt.NVDRecords-(opt.CVE5Records-onlyCVE5))
	if err := writeCVE5Zip(ctx, res.CVE5Zip, cve5, ids[first:]); err != nil {
		return MetricsResult{}, err
	}
	step := max(1, len(ids)/20000)
	for i := 0; i < len(ids); i += step {
		res.Lookups = append(res.Lookups, ids[i])
	}
	err = os.WriteFile(filepath.Join(out, "metrics_lookups.txt"), []byte(strings.Join(res.Lookups, "\n")+"\n"), 0o644)
	return res, err
}

// template is one real record and the CVE id it names.
type template struct {
	id   string
	body []byte
}

var cveID = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)

// templates reads the real records under dir, each with its own CVE id
// (the file name's).
func templates(dir string) ([]template, error) {
	var out []template
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		id := cveID.FindString(filepath.Base(p))
		if id == "" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, template{id: id, body: bytes.TrimSpace(b)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no CVE records in %s", dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

// replicate is template t with every mention of its CVE id replaced by id.
func (t template) replicate(id string) []byte {
	return bytes.ReplaceAll(t.body, []byte(t.id), []byte(id))
}

// epssCVEs reads the first n CVE ids of an EPSS file and numbers on.
func epssCVEs(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(zr)
	if b, _ := br.Peek(1); len(b) == 1 && b[0] == '#' {
		if _, err := br.ReadString('\n'); err != nil {
			return nil, err
		}
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return nil, err
	}
	ids := make([]string, 0, n)
	for len(ids) < n {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, rec[0])
	}
	for i := 0; len(ids) < n; i++ {
		ids = append(ids, fmt.Sprintf("CVE-2031-%d", 5_000_000+i))
	}
	return ids, nil
}

// writeNVDFeeds writes one gzipped NVD API 2.0 feed per CVE year.
func writeNVDFeeds(ctx context.Context, dir string, tmpl []template, ids []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	byYear := map[string][]int{}
	for i, id := range ids {
		byYear[id[4:8]] = append(byYear[id[4:8]], i)
	}
	for year, idx := range byYear {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(dir, "nvdcve-2.0-"+year+".json.gz"))
		if err != nil {
			return err
		}
		zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
		w := bufio.NewWriterSize(zw, 1<<20)
		fmt.Fprintf(w, `{"resultsPerPage":%d,"startIndex":0,"totalResults":%d,"format":"NVD_CVE","version":"2.0","timestamp":"2026-09-29T12:00:00.000","vulnerabilities":[`, len(idx), len(idx))
		for k, i := range idx {
			if k > 0 {
				w.WriteByte(',')
			}
			w.WriteString(`{"cve":`)
			w.Write(tmpl[i%len(tmpl)].replicate(ids[i]))
			w.WriteByte('}')
		}
		w.WriteString("]}\n")
		err = errors.Join(w.Flush(), zw.Close(), f.Close())
		if err != nil {
			return err
		}
	}
	return nil
}

// writeCVE5Zip writes CVE 5 records as the CVE List lays them out:
// cves/YYYY/NNxxx/CVE-YYYY-NNNNN.json.
func writeCVE5Zip(ctx context.Context, path string, tmpl []template, ids []string) error {
	zw, closeZip, err := createZip(path)
	if err != nil {
		return err
	}
	for i, id := range ids {
		if i%1024 == 0 && ctx.Err() != nil {
			closeZip()
			return ctx.Err()
		}
		num := id[9:]
		bucket := "0xxx"
		if len(num) > 3 {
			bucket = num[:len(num)-3] + "xxx"
		}
		w, err := zw.Create("cves/" + id[4:8] + "/" + bucket + "/" + id + ".json")
		if err != nil {
			closeZip()
			return err
		}
		rec := tmpl[i%len(tmpl)].replicate(id)
		if i < len(tmpl) && !json.Valid(rec) {
			closeZip()
			return fmt.Errorf("template %s does not stay valid JSON", tmpl[i%len(tmpl)].id)
		}
		if _, err := w.Write(rec); err != nil {
			closeZip()
			return err
		}
	}
	return closeZip()
}
