package vulndb

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// How `db import` recognises NVD and CVE 5 inputs: by the first bytes of
// a JSON document (decompressed when gzipped), whatever the file is named.
var (
	cve5Head = regexp.MustCompile(`"dataType"\s*:\s*"CVE_RECORD"|"cveMetadata"\s*:`)
	nvdHead  = regexp.MustCompile(`"format"\s*:\s*"NVD_CVE"|"vulnerabilities"\s*:\s*\[\s*\{\s*"cve"\s*:|"sourceIdentifier"\s*:`)
)

// sniffHead is how much of a document detection reads.
const sniffHead = 64 << 10

// metricsKindOf tells a CVE metrics document by its first bytes.
func metricsKindOf(head []byte) (SourceKind, bool) {
	switch {
	case cve5Head.Match(head):
		return KindCVE5, true
	case nvdHead.Match(head):
		return KindNVD, true
	}
	return "", false
}

// sniffStream reads the head of one document, gunzipping it when it
// starts with the gzip magic.
func sniffStream(r io.Reader) (SourceKind, bool) {
	br := bufio.NewReader(r)
	var in io.Reader = br
	if h, _ := br.Peek(2); bytes.Equal(h, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return "", false
		}
		in = zr
	}
	head := make([]byte, sniffHead)
	n, _ := io.ReadFull(in, head)
	return metricsKindOf(head[:n])
}

// MetricsFile reports whether the file at p is NVD JSON (a record, an API
// page or a yearly feed, plain or gzipped), CVE 5 JSON, or a zip whose
// first JSON entry is one of those, and returns it as a Source.
func MetricsFile(p string) (Source, bool) {
	if strings.HasSuffix(strings.ToLower(p), ".zip") {
		zr, err := zip.OpenReader(p)
		if err != nil {
			return Source{}, false
		}
		defer zr.Close()
		for _, zf := range zr.File {
			l := strings.ToLower(zf.Name)
			if zf.FileInfo().IsDir() || !(strings.HasSuffix(l, ".json") || strings.HasSuffix(l, ".json.gz")) {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				return Source{}, false
			}
			k, ok := sniffStream(rc)
			rc.Close()
			return Source{Kind: k, Location: p}, ok
		}
		return Source{}, false
	}
	f, err := os.Open(p)
	if err != nil {
		return Source{}, false
	}
	defer f.Close()
	k, ok := sniffStream(f)
	return Source{Kind: k, Location: p}, ok
}

// errFound stops a directory walk.
var errFound = errors.New("found")

// MetricsDir reports whether a directory holds NVD or CVE 5 records (like
// the CVE List's YYYY/NNxxx/CVE-….json tree), by its first JSON file in
// walk order, and returns it as a Source.
func MetricsDir(dir string) (Source, bool) {
	var src Source
	ok := false
	seen := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if seen++; seen > 1000 {
			return errFound // not found early: not a metrics directory
		}
		l := strings.ToLower(p)
		if !d.Type().IsRegular() || !(strings.HasSuffix(l, ".json") || strings.HasSuffix(l, ".json.gz")) {
			return nil
		}
		if s, found := MetricsFile(p); found {
			src, ok = Source{Kind: s.Kind, Location: dir}, true
		}
		return errFound
	})
	return src, ok
}

// metricsParts are the nvd/ and cve/ parts of a directory laid out as
// ClassifyDir describes.
func metricsParts(dir string) []Source {
	var out []Source
	for _, p := range []struct {
		name string
		src  func(string) Source
	}{{"nvd", NVD}, {"cve", CVE5}} {
		if st, err := os.Stat(filepath.Join(dir, p.name)); err == nil && st.IsDir() {
			out = append(out, p.src(filepath.Join(dir, p.name)))
		}
	}
	return out
}
