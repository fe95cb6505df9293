package agent

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlens/runlens/internal/agent/contentstore"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/scan"
)

// BenchmarkDriftDebian: drift of a container running bench/image-scan.sh's
// Debian image (RUNLENS_DRIFT_BENCH_IMAGE, else its cache path), its
// layers unpacked with times and modes kept as containerd does, and a
// dropped binary in it. It reports the image's inventory without and
// with its file list, and the drift check (live inventory and walk), per
// container.
func BenchmarkDriftDebian(b *testing.B) {
	path := os.Getenv("RUNLENS_DRIFT_BENCH_IMAGE")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".cache", "runlens-bench", "images", "v1", "debian.tar")
	}
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		b.Skipf("no bench image (bench/image-scan.sh builds it): %v", err)
	}
	if _, err := exec.LookPath("tar"); err != nil {
		b.Skip("no tar to unpack the layers")
	}
	dir := b.TempDir()
	store, digest := benchStore(b, filepath.Join(dir, "containerd"), img)
	proc := filepath.Join(dir, "proc")
	root := filepath.Join(proc, "42", "root")
	benchUnpack(b, img, root)
	if err := os.WriteFile(filepath.Join(root, "tmp", "dropped"), []byte("\x7fELF-dropped"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "42", "mountinfo"), []byte("1 0 0:50 / / rw - overlay overlay rw\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	c := &evidence.Container{ID: "c1", Digest: digest, PIDs: []int{42}}
	ctx := context.Background()
	var plain, inventory, check time.Duration
	var last *evidence.Drift
	for b.Loop() {
		tp := time.Now()
		if _, err := Inventories(store, proc, &scan.Scanner{})(ctx, c); err != nil {
			b.Fatal(err)
		}
		plain += time.Since(tp)
		d := &Drifter{Store: store, ProcRoot: proc, Scanner: &scan.Scanner{}}
		t0 := time.Now()
		inv, err := d.Inventory(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		last, err = d.Drift(ctx, c, inv, []Process{{PID: 42, Exe: "/tmp/dropped"}})
		if err != nil || last == nil {
			b.Fatalf("%v %v", last, err)
		}
		inventory += t1.Sub(t0)
		check += time.Since(t1)
	}
	if last.FilesChanged != 1 || last.Files[0].Path != "/tmp/dropped" || len(last.Packages) != 0 || !last.Complete {
		b.Fatalf("drift of an unchanged Debian root with one dropped file: %+v", last)
	}
	b.ReportMetric(float64(last.Compared), "entries")
	b.ReportMetric(float64(plain.Milliseconds())/float64(b.N), "plain-inventory-ms/op")
	b.ReportMetric(float64(inventory.Milliseconds())/float64(b.N), "inventory-ms/op")
	b.ReportMetric(float64(check.Milliseconds())/float64(b.N), "drift-ms/op")
}

// benchStore writes img into a containerd content store under root.
func benchStore(b *testing.B, root string, img v1.Image) (*contentstore.Store, string) {
	b.Helper()
	blobs := filepath.Join(root, contentstore.ContentDir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		b.Fatal(err)
	}
	put := func(h v1.Hash, r io.Reader) {
		f, err := os.Create(filepath.Join(blobs, h.Hex))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(f, r); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	raw, _ := img.RawManifest()
	d, _ := img.Digest()
	put(d, bytes.NewReader(raw))
	cfg, _ := img.RawConfigFile()
	cd, _ := img.ConfigName()
	put(cd, bytes.NewReader(cfg))
	layers, err := img.Layers()
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range layers {
		ld, _ := l.Digest()
		rc, err := l.Compressed()
		if err != nil {
			b.Fatal(err)
		}
		put(ld, rc)
		rc.Close()
	}
	s, err := contentstore.Open(root)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, d.String()
}

// benchUnpack extracts img's layers into root with tar, keeping times
// and modes (the image is one layer: no whiteouts to apply).
func benchUnpack(b *testing.B, img v1.Image, root string) {
	b.Helper()
	if err := os.MkdirAll(root, 0o755); err != nil {
		b.Fatal(err)
	}
	layers, _ := img.Layers()
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command("tar", "-x", "-p", "--numeric-owner", "-C", root)
		cmd.Stdin = rc
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("tar: %v\n%s", err, out)
		}
		rc.Close()
	}
}
