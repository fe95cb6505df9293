package extract

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// benchRoot builds a rootfs-sized tree once: this machine's real dpkg status
// (or the committed subset), the kitchen-sink fixtures, 400 npm packages and
// ~12,000 files no extractor wants (docs, Python sources, small
// executables), which is roughly the shape of a Debian + Node image.
func benchRoot(b *testing.B) string {
	b.Helper()
	dir := debianRoot(b)
	if st, err := os.ReadFile("/var/lib/dpkg/status"); err == nil {
		writeFile(b, dir, "var/lib/dpkg/status", st, 0o644)
	}
	for i := range 400 {
		name := fmt.Sprintf("pkg%03d", i)
		writeFile(b, dir, "app/node_modules/"+name+"/package.json",
			fmt.Appendf(nil, `{"name":%q,"version":"1.%d.0","description":"bench","main":"index.js","license":"MIT","dependencies":{"lodash":"^4.17.0"}}`, name, i), 0o644)
		writeFile(b, dir, "app/node_modules/"+name+"/index.js", []byte("module.exports = 1\n"), 0o644)
		writeFile(b, dir, "app/node_modules/"+name+"/README.md", []byte("# bench\n"), 0o644)
	}
	for i := range 4000 {
		writeFile(b, dir, fmt.Sprintf("usr/share/doc/d%03d/f%d.txt", i%300, i), []byte("doc\n"), 0o644)
		writeFile(b, dir, fmt.Sprintf("usr/lib/python3.11/m%03d/f%d.py", i%200, i), []byte("x = 1\n"), 0o644)
	}
	for i := range 300 {
		writeFile(b, dir, fmt.Sprintf("usr/bin/tool%03d", i), []byte("#!/bin/sh\necho hi\n"), 0o755)
	}
	return dir
}

func BenchmarkExtract(b *testing.B) {
	dir := benchRoot(b)
	root := newDirRoot(b, dir)
	b.ReportAllocs()
	var pkgs int
	for b.Loop() {
		inv, err := Extract(context.Background(), root, Options{})
		if err != nil {
			b.Fatal(err)
		}
		pkgs = len(inv.Packages)
	}
	b.ReportMetric(float64(pkgs), "packages")
}

// BenchmarkExtractDir measures a real root filesystem directory, e.g. the
// debootstrap bookworm root built by hack/fixtures/bench-images.sh:
//
//	RUNLENS_EXTRACT_ROOT=~/.cache/runlens-bench/images/v1/debian-root \
//	  go test ./internal/extract -run XXX -bench ExtractDir -benchtime 3x
func BenchmarkExtractDir(b *testing.B) {
	dir := os.Getenv("RUNLENS_EXTRACT_ROOT")
	if dir == "" {
		b.Skip("RUNLENS_EXTRACT_ROOT not set")
	}
	root := newDirRoot(b, dir)
	b.ReportAllocs()
	var pkgs, errs, files int
	for b.Loop() {
		inv, err := Extract(context.Background(), root, Options{})
		if err != nil {
			b.Fatal(err)
		}
		pkgs, errs, files = len(inv.Packages), len(inv.Errors), 0
		for _, p := range inv.Packages {
			files += len(p.Files)
		}
		if b.N == 1 {
			for _, e := range inv.Errors {
				b.Logf("error: %s %s %s", e.Path, e.Extractor, strings.TrimSpace(e.Reason))
			}
		}
	}
	b.ReportMetric(float64(pkgs), "packages")
	b.ReportMetric(float64(errs), "errors")
	b.ReportMetric(float64(files), "owned-files")
}
