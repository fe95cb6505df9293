package vulndb

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The kinds of CVE metrics Source.
const (
	// KindNVD reads NVD CVE API 2.0 JSON: single cve objects, API pages
	// ({"vulnerabilities":[{"cve":…}]}) and the yearly feed files, plain or
	// gzipped, as files, directories (recursive) or zips.
	KindNVD SourceKind = "nvd"
	// KindCVE5 reads CVE JSON 5 records (the CVE List, CISA vulnrichment):
	// files, directories laid out as YYYY/NNxxx/CVE-….json, zips (the CVE
	// List bulk export, a zip inside a zip, included), or an http(s) URL
	// of such a zip or of a GitHub releases API answer naming one.
	KindCVE5 SourceKind = "cve5"
	// KindNVDAPI fetches from the NVD CVE API 2.0 (see NVDAPI).
	KindNVDAPI SourceKind = "nvd-api"
)

// NVD reads NVD CVE API 2.0 JSON from a file, directory or zip.
func NVD(path string) Source { return Source{Kind: KindNVD, Location: path} }

// CVE5 reads CVE JSON 5 records from a file, directory, zip or URL.
func CVE5(location string) Source { return Source{Kind: KindCVE5, Location: location} }

// maxZipNesting bounds zips inside zips (the CVE List export is a zip
// holding a zip).
const maxZipNesting = 2

// metricsReader reads one CVE metrics source and hands its documents'
// records to emit as raw records for the decoder workers.
type metricsReader struct {
	im   *Importer
	dir  string // DB directory, for downloads and nested zips
	src  int
	emit func(rawRecord) error
	b    *builder
	// total counts uncompressed bytes read, against Limits.MaxTotalBytes.
	total int64
	// br and buf are reused for every document: a CVE List export holds
	// hundreds of thousands of small files.
	br  *bufio.Reader
	buf []byte
}

// readSource reads one metrics source: the NVD API, a CVE 5 export URL,
// or a file or directory.
func (r *metricsReader) readSource(ctx context.Context, s Source) error {
	switch {
	case s.Kind == KindNVDAPI:
		return r.readNVDAPI(ctx, s)
	case isURL(s.Location) && s.Kind == KindCVE5:
		return r.readCVE5URL(ctx, s.Location)
	case isURL(s.Location):
		return fmt.Errorf("NVD JSON is read from files; fetch from the NVD API with NVDAPI")
	}
	st, err := os.Stat(s.Location)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return r.readDir(ctx, s.Location)
	}
	return r.readFile(ctx, s.Location, 0)
}

func (r *metricsReader) readDir(ctx context.Context, root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if !d.Type().IsRegular() || !metricsFileName(path) {
			return nil // directories are walked; symlinks, devices and other files are not read
		}
		return r.readFile(ctx, path, 0)
	})
}

// metricsFileName is the names a metrics source reads: *.json, *.json.gz
// and *.zip.
func metricsFileName(p string) bool {
	l := strings.ToLower(p)
	return strings.HasSuffix(l, ".json") || strings.HasSuffix(l, ".json.gz") || strings.HasSuffix(l, ".zip")
}

func (r *metricsReader) readFile(ctx context.Context, path string, nesting int) error {
	if strings.HasSuffix(strings.ToLower(path), ".zip") {
		return r.readZip(ctx, path, nesting)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return r.readStream(ctx, path, f)
}

// readStream splits one JSON document (gunzipped when it starts with the
// gzip magic) into records.
func (r *metricsReader) readStream(ctx context.Context, name string, rd io.Reader) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lim := r.im.limits()
	if r.br == nil {
		r.br, r.buf = bufio.NewReaderSize(rd, 64<<10), make([]byte, 256<<10)
	}
	br := r.br
	br.Reset(rd)
	defer br.Reset(nil)
	var in io.Reader = br
	if head, _ := br.Peek(2); bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer zr.Close()
		in = zr
	}
	in = &countReader{r: in, n: &r.total, max: lim.MaxTotalBytes, what: name}
	_, _, err := splitJSON(in, lim.MaxRecordBytes, r.buf, func(rec []byte) error {
		return r.emit(rawRecord{src: r.src, name: name, data: rec, kind: recMetrics})
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (r *metricsReader) readZip(ctx context.Context, path string, nesting int) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("zip %s: %w", path, err)
	}
	defer zr.Close()
	lim := r.im.limits()
	if len(zr.File) > lim.MaxEntries {
		return fmt.Errorf("zip %s has %d entries, more than the limit of %d", path, len(zr.File), lim.MaxEntries)
	}
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := path + "!" + zf.Name
		if zf.FileInfo().IsDir() || !metricsFileName(zf.Name) {
			continue
		}
		if strings.HasSuffix(strings.ToLower(zf.Name), ".zip") {
			if err := r.readNestedZip(ctx, zf, name, nesting); err != nil {
				return err
			}
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		err = r.readStream(ctx, name, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// readNestedZip extracts a zip entry that is itself a zip into a temp file
// in the DB directory (a zip needs random access) and reads it.
func (r *metricsReader) readNestedZip(ctx context.Context, zf *zip.File, name string, nesting int) error {
	if nesting+1 >= maxZipNesting {
		return fmt.Errorf("%s: zips nested more than %d deep", name, maxZipNesting)
	}
	rc, err := zf.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(r.dir, tempPrefix+"zip-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, &countReader{r: rc, n: &r.total, max: r.im.limits().MaxTotalBytes, what: name})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return r.readZip(ctx, tmp.Name(), nesting+1)
}

// countReader fails, rather than truncating silently, once the bytes read
// through it (added to *n, shared by one source) pass max.
type countReader struct {
	r    io.Reader
	n    *int64
	max  int64
	what string
}

func (c *countReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	*c.n += int64(k)
	if *c.n > c.max {
		return k, fmt.Errorf("%s: more than %d uncompressed bytes in this source (decompression bomb?)", c.what, c.max)
	}
	return k, err
}
