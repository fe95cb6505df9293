package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
)

// builtLayer is a gzip-compressed layer and the digest of its tar.
type builtLayer struct {
	gz     []byte
	diffID string
}

// gzTar streams the tar that write produces through sha256 (the diffID)
// and gzip, so a layer inflating to gigabytes costs only its compressed
// size in memory.
func gzTar(t testing.TB, write func(tw *tar.Writer) error) builtLayer {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	h := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(h, zw))
	if err := write(tw); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return builtLayer{gz: buf.Bytes(), diffID: "sha256:" + hex.EncodeToString(h.Sum(nil))}
}

// tarFile is one entry for files.
type tarFile struct {
	name, body, link string
	typ              byte
}

func file(name, body string) tarFile    { return tarFile{name: name, body: body, typ: tar.TypeReg} }
func symlink(name, link string) tarFile { return tarFile{name: name, link: link, typ: tar.TypeSymlink} }
func directory(name string) tarFile     { return tarFile{name: name, typ: tar.TypeDir} }
func fifoEntry(name string) tarFile     { return tarFile{name: name, typ: tar.TypeFifo} }
func withMode(h *tar.Header) *tar.Header {
	h.Mode = 0o644
	h.ModTime = time.Unix(1700000000, 0)
	return h
}

// files writes entries as given.
func files(entries ...tarFile) func(tw *tar.Writer) error {
	return func(tw *tar.Writer) error {
		for _, e := range entries {
			h := withMode(&tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Size: int64(len(e.body))})
			if e.typ != tar.TypeReg {
				h.Size = 0
			}
			if e.typ == tar.TypeDir {
				h.Mode = 0o755
			}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if _, err := io.WriteString(tw, e.body); err != nil {
				return err
			}
		}
		return nil
	}
}

// repeated is a reader of n bytes cycling through pattern.
type repeated struct {
	pattern []byte
	n, off  int64
}

func (r *repeated) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	if rem := r.n - r.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	for i := range p {
		p[i] = r.pattern[(r.off+int64(i))%int64(len(r.pattern))]
	}
	r.off += int64(len(p))
	return len(p), nil
}

// dockerSave writes a docker-save archive whose layers are layers[order[0]],
// layers[order[1]], ... (a layer may be listed many times).
func dockerSave(t testing.TB, path string, layers []builtLayer, order []int) {
	t.Helper()
	var diffIDs, names []string
	for _, i := range order {
		diffIDs = append(diffIDs, layers[i].diffID)
		names = append(names, strings.TrimPrefix(layers[i].diffID, "sha256:")+"/layer.tar")
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	sum := sha256.Sum256(cfg)
	cfgName := hex.EncodeToString(sum[:]) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"hostile:1"}, "Layers": names}})

	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	put := func(name string, b []byte) {
		if err := tw.WriteHeader(withMode(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(b))})); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	put("manifest.json", manifest)
	put(cfgName, cfg)
	for _, l := range layers {
		put(strings.TrimPrefix(l.diffID, "sha256:")+"/layer.tar", l.gz)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// archiveOf writes a one-image archive of the given layers, base first.
func archiveOf(t testing.TB, layers ...builtLayer) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	order := make([]int, len(layers))
	for i := range order {
		order[i] = i
	}
	dockerSave(t, p, layers, order)
	return p
}

// stretch is the os-release of the sample image (Debian 9), whose
// advisories testdata/sample/advisories holds.
var stretch = file("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 9 (stretch)\"\nID=debian\nVERSION_ID=\"9\"\nVERSION_CODENAME=stretch\n")

// opensslStatus is a dpkg status naming the openssl the sample advisories
// report (DLA-3008-1).
const opensslStatus = "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.1.0l-1~deb9u5\n\n"

// lodashJSON is a package.json of the lodash the sample advisories report.
const lodashJSON = `{"name":"lodash","version":"4.17.15"}`

// jsonResult parses a JSON report holding exactly one image.
func jsonResult(t testing.TB, out string) *result.Image {
	t.Helper()
	var doc result.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, out)
	}
	if len(doc.Images) != 1 {
		t.Fatalf("%d images in the report, want 1", len(doc.Images))
	}
	return doc.Images[0]
}

// hasFinding says whether r has a finding for the package named pkg.
func hasFinding(r *result.Image, pkg string) bool {
	for _, f := range r.Findings {
		if f.Package.Name == pkg {
			return true
		}
	}
	return false
}
