package vulndb

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// DefaultOSVBase is the public OSV export: <base>/<Ecosystem>/all.zip.
const DefaultOSVBase = "https://osv-vulnerabilities.storage.googleapis.com"

// SourceKind says how a Source is read.
type SourceKind string

// The kinds of Source.
const (
	KindOSVDir    SourceKind = "osv-dir"    // directory of OSV JSON (and OSV zips), recursive
	KindOSVZip    SourceKind = "osv-zip"    // one zip of OSV JSON, as in the OSV export
	KindOSVExport SourceKind = "osv-export" // HTTP base URL serving <base>/<Ecosystem>/all.zip
	KindEPSS      SourceKind = "epss"       // FIRST EPSS CSV, optionally gzipped: path or URL
	KindKEV       SourceKind = "kev"        // CISA KEV JSON catalog: path or URL
)

// Source is one input of Import.
type Source struct {
	Kind     SourceKind
	Location string
	// Ecosystems limits a KindOSVExport source; empty means every ecosystem
	// listed in <base>/ecosystems.txt.
	Ecosystems []string
	// NVDOptions configures a KindNVDAPI source (see NVDAPI).
	NVDOptions *NVDAPIOptions
}

// OSVDir reads every *.json (and *.zip) under dir, recursively.
func OSVDir(dir string) Source { return Source{Kind: KindOSVDir, Location: dir} }

// OSVZip reads one OSV zip, e.g. a downloaded <Ecosystem>/all.zip.
func OSVZip(path string) Source { return Source{Kind: KindOSVZip, Location: path} }

// OSVExport fetches <base>/<Ecosystem>/all.zip for each ecosystem; with none
// given, the list comes from <base>/ecosystems.txt. An empty base means
// DefaultOSVBase.
func OSVExport(base string, ecosystems ...string) Source {
	if base == "" {
		base = DefaultOSVBase
	}
	return Source{Kind: KindOSVExport, Location: strings.TrimRight(base, "/"), Ecosystems: ecosystems}
}

// EPSS reads a FIRST EPSS CSV (plain or gzip) from a path or http(s) URL.
func EPSS(location string) Source { return Source{Kind: KindEPSS, Location: location} }

// KEV reads the CISA KEV JSON catalog from a path or http(s) URL.
func KEV(location string) Source { return Source{Kind: KindKEV, Location: location} }

// DetectOSV picks the OSV source kind for a user-given location: an http(s)
// URL is an export base, a directory is a directory, anything else a zip.
func DetectOSV(location string) (Source, error) {
	if isURL(location) {
		return OSVExport(location), nil
	}
	st, err := os.Stat(location)
	if err != nil {
		return Source{}, err
	}
	if st.IsDir() {
		return OSVDir(location), nil
	}
	return OSVZip(location), nil
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// redact drops credentials from a URL before it is stored or shown.
func redact(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme == "" {
		return loc
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// rawRecord is one OSV JSON document (or, with kind recMetrics, one NVD or
// CVE 5 record) on its way to the decoder workers.
type rawRecord struct {
	src  int
	name string
	data []byte
	kind byte
	// carried is a CVE metrics part copied from the previous database.
	carried *metricRec
}

// Kinds of rawRecord.
const (
	recOSV     byte = iota // an OSV advisory
	recMetrics             // an NVD or CVE 5 record, or a carried part
)

// reader walks one OSV source and hands its records to emit; bad ones go
// to bad. Fatal errors (unreadable source, zip bomb) stop the import.
type reader struct {
	im   *Importer
	dir  string // DB directory, for downloads
	src  int
	emit func(rawRecord) error
	bad  func(src int, name, reason string)
	// total counts uncompressed bytes read from zips, against Limits.MaxTotalBytes.
	total int64
}

func (r *reader) readDir(ctx context.Context, root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if !d.Type().IsRegular() {
			return nil // directories are walked; symlinks and devices are not read
		}
		switch {
		case strings.HasSuffix(path, ".json"):
			return r.readFile(path)
		case strings.HasSuffix(path, ".zip"):
			return r.readZip(ctx, path)
		}
		return nil
	})
}

func (r *reader) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		r.bad(r.src, path, err.Error())
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, r.im.limits().MaxRecordBytes+1))
	if err != nil {
		r.bad(r.src, path, err.Error())
		return nil
	}
	if int64(len(data)) > r.im.limits().MaxRecordBytes {
		r.bad(r.src, path, fmt.Sprintf("larger than %d bytes", r.im.limits().MaxRecordBytes))
		return nil
	}
	return r.emit(rawRecord{src: r.src, name: path, data: data})
}

func (r *reader) readZip(ctx context.Context, path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("OSV zip %s: %w", path, err)
	}
	defer zr.Close()
	lim := r.im.limits()
	if len(zr.File) > lim.MaxEntries {
		return fmt.Errorf("OSV zip %s has %d entries, more than the limit of %d", path, len(zr.File), lim.MaxEntries)
	}
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if zf.FileInfo().IsDir() || !strings.HasSuffix(zf.Name, ".json") {
			continue
		}
		name := path + "!" + zf.Name
		if zf.UncompressedSize64 > uint64(lim.MaxRecordBytes) {
			r.bad(r.src, name, fmt.Sprintf("larger than %d bytes", lim.MaxRecordBytes))
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			r.bad(r.src, name, err.Error())
			continue
		}
		// The declared size can lie: the limit applies to what inflates.
		data, err := io.ReadAll(io.LimitReader(rc, lim.MaxRecordBytes+1))
		rc.Close()
		r.total += int64(len(data))
		if r.total > lim.MaxTotalBytes {
			return fmt.Errorf("OSV zip %s: more than %d uncompressed bytes in total (zip bomb?)", path, lim.MaxTotalBytes)
		}
		switch {
		case err != nil:
			r.bad(r.src, name, err.Error())
		case int64(len(data)) > lim.MaxRecordBytes:
			r.bad(r.src, name, fmt.Sprintf("larger than %d bytes", lim.MaxRecordBytes))
		default:
			if err := r.emit(rawRecord{src: r.src, name: name, data: data}); err != nil {
				return err
			}
		}
	}
	return nil
}

// readExport downloads each ecosystem's all.zip into the DB directory (a
// zip needs random access) and reads it. A failed download fails the
// import: a database silently missing an ecosystem would report clean.
func (r *reader) readExport(ctx context.Context, s Source) error {
	ecos := s.Ecosystems
	if len(ecos) == 0 {
		body, err := r.im.fetch(ctx, s.Location+"/ecosystems.txt", 1<<20)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(body), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				ecos = append(ecos, l)
			}
		}
		if len(ecos) == 0 {
			return fmt.Errorf("%s/ecosystems.txt lists no ecosystems", redact(s.Location))
		}
	}
	for _, eco := range ecos {
		if eco == "" || eco == "." || eco == ".." || strings.ContainsAny(eco, "/\\\x00") {
			return fmt.Errorf("invalid ecosystem name %q", eco)
		}
		u := s.Location + "/" + url.PathEscape(eco) + "/all.zip"
		tmp, err := os.CreateTemp(r.dir, tempPrefix+"dl-*")
		if err != nil {
			return err
		}
		err = r.im.download(ctx, u, tmp)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = r.readZip(ctx, tmp.Name())
		}
		os.Remove(tmp.Name())
		if err != nil {
			return fmt.Errorf("ecosystem %s: %w", eco, err)
		}
	}
	return nil
}

func (im *Importer) client() *http.Client {
	if im.Client != nil {
		return im.Client
	}
	return http.DefaultClient
}

func (im *Importer) get(ctx context.Context, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact(u), err)
	}
	for k, vs := range im.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := im.client().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error would repeat the URL, credentials included
		}
		return nil, fmt.Errorf("GET %s: %w", redact(u), err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", redact(u), resp.Status)
	}
	return resp, nil
}

func (im *Importer) fetch(ctx context.Context, u string, max int64) ([]byte, error) {
	resp, err := im.get(ctx, u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact(u), err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", redact(u), max)
	}
	return b, nil
}

func (im *Importer) download(ctx context.Context, u string, w io.Writer) error {
	resp, err := im.get(ctx, u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	max := im.limits().MaxDownloadBytes
	n, err := io.Copy(w, io.LimitReader(resp.Body, max+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", redact(u), err)
	}
	if n > max {
		return fmt.Errorf("GET %s: larger than %d bytes", redact(u), max)
	}
	return nil
}

// openData opens a path or URL for EPSS/KEV, transparently un-gzipping,
// capped at max decompressed bytes (a read past it fails).
func (im *Importer) openData(ctx context.Context, loc string, max int64) (io.ReadCloser, error) {
	var rc io.ReadCloser
	if isURL(loc) {
		resp, err := im.get(ctx, loc)
		if err != nil {
			return nil, err
		}
		rc = resp.Body
	} else {
		f, err := os.Open(loc)
		if err != nil {
			return nil, err
		}
		rc = f
	}
	br := bufio.NewReader(io.LimitReader(rc, im.limits().MaxDownloadBytes))
	var r io.Reader = br
	if head, _ := br.Peek(2); bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("%s: %w", redact(loc), err)
		}
		r = zr
	}
	return struct {
		io.Reader
		io.Closer
	}{&capReader{r: r, left: max, what: redact(loc)}, rc}, nil
}

// capReader fails, rather than truncating silently, past its byte budget.
type capReader struct {
	r    io.Reader
	left int64
	what string
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := io.ReadFull(c.r, one[:]); n == 0 {
			return 0, io.EOF // exactly at the limit
		}
		return 0, fmt.Errorf("%s: larger than the size limit (decompression bomb?)", c.what)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
